// Command connrules lints policies, decides requests, runs a policy's own
// tests and scenarios, and times the engines. `connrules help` lists the
// commands and the exit codes (0 ok, 1 a failed check, 2 usage or I/O);
// `connrules --version` prints the version stamped at build time. See
// README.md.
//
// connrules is licensed under the Apache License 2.0; see LICENSE.
package main

import (
	"os"

	"github.com/connrules/connrules/cmd/connrules/cli"
)

func main() { os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
