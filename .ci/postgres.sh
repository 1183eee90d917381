# .ci/postgres.sh: start a throwaway PostgreSQL for the store tests and
# export CONNRULES_POSTGRES_URL. Meant to be sourced (". .ci/postgres.sh")
# by .ci/run; running it as a script also works and prints the URL.
#
# It installs PostgreSQL from Debian's packages when no initdb is found,
# initialises a cluster in a temporary directory owned by the postgres
# user, starts it on a loopback port (CONNRULES_PG_PORT, default 55432)
# and creates the database connrules. A cluster this script started
# earlier on that port is reused.

connrules_pg_start() {
	local port="${CONNRULES_PG_PORT:-55432}"
	local dir="${CONNRULES_PG_DIR:-/tmp/connrules-pg-$port}"
	local bin
	bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
	if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
		echo "postgres.sh: installing PostgreSQL from Debian's packages" >&2
		apt-get update -qq >&2 || return 1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 || return 1
		bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
	fi
	id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres || return 1
	local as_pg=(runuser -u postgres --)
	[ "$(id -u)" = "$(id -u postgres)" ] && as_pg=()

	if ! "${as_pg[@]}" "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
		if [ ! -f "$dir/PG_VERSION" ]; then
			mkdir -p "$dir" && chown postgres "$dir" && chmod 700 "$dir" || return 1
			"${as_pg[@]}" "$bin/initdb" -D "$dir" -U postgres -A trust --no-sync -E UTF8 >/dev/null || return 1
		fi
		# fsync stays on: the crash tests kill the client, not the server,
		# but the server must behave as it would in production.
		"${as_pg[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
			-o "-h 127.0.0.1 -p $port -k $dir -c max_connections=200 -c shared_buffers=128MB" start >/dev/null || {
			cat "$dir/server.log" >&2
			return 1
		}
	fi
	"${as_pg[@]}" "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -tAc \
		"SELECT 1 FROM pg_database WHERE datname = 'connrules'" | grep -q 1 ||
		"${as_pg[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres connrules || return 1
	export CONNRULES_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/connrules?sslmode=disable"
	echo "CONNRULES_POSTGRES_URL=$CONNRULES_POSTGRES_URL"
}

connrules_pg_start || {
	echo "postgres.sh: could not start PostgreSQL" >&2
	# Sourced: leave the variable unset, so tests under CI=true fail.
	return 1 2>/dev/null || exit 1
}
