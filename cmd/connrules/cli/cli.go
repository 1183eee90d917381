// Package cli is the connrules command line. Streams are passed in so that
// every command can be tested without a process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/connrules/connrules/rules"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // lint errors, failed tests, bad input
	exitUsage = 2
)

// Env carries a command's streams.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

type command struct {
	summary string
	run     func(ctx context.Context, e *Env, args []string) int
}

var commands = map[string]command{}

// register adds a subcommand; files of this package call it from init.
func register(name, summary string, run func(ctx context.Context, e *Env, args []string) int) {
	commands[name] = command{summary: summary, run: run}
}

// Run runs the command line args and returns the exit code.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "connrules: unknown command %q\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return c.run(context.Background(), e, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: connrules <command> [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'connrules <command> -h' for a command's flags.")
}

// newFlags makes a FlagSet that prints its usage to stderr and does not exit.
func newFlags(e *Env, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.Stderr, "usage: connrules %s %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses flags anywhere among the arguments, as users expect.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// loadPolicy reads and compiles a policy natively. Errors are printed
// with positions and carets.
func loadPolicy(e *Env, path string) (*rules.Policy, []byte, bool) {
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
		return nil, nil, false
	}
	p, err := rules.Load(path, src)
	if err != nil {
		fmt.Fprintln(e.Stderr, err)
		var list rules.ErrorList
		if errors.As(err, &list) {
			fmt.Fprintf(e.Stderr, "%s: %d error%s\n", path, len(list), plural(len(list)))
		}
		return nil, nil, false
	}
	return p, src, true
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func readInput(e *Env, args []string) ([]byte, string, error) {
	if len(args) == 0 || args[0] == "-" {
		b, err := io.ReadAll(e.Stdin)
		return b, "stdin", err
	}
	if len(args) > 1 {
		return nil, "", fmt.Errorf("one request file at a time, got %s", strings.Join(args, " "))
	}
	b, err := os.ReadFile(args[0])
	return b, args[0], err
}
