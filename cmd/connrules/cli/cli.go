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

// Exit codes, as gojq and opa use them (documented in exitCodes).
const (
	exitOK    = 0
	exitFail  = 1 // a check failed: lint errors, a failed test, a policy or request that does not load
	exitUsage = 2 // usage or I/O: bad flags or arguments, a file that cannot be read
)

// exitCodes is the exit-code section of `connrules help`.
const exitCodes = `exit codes:
  0  success
  1  a check failed: lint found errors, a policy test or scenario failed,
     a policy does not compile, a request is malformed
  2  usage or I/O: unknown command or flag, missing argument, a file
     that cannot be read`

// Env carries a command's streams.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer

	// help is set when the command was asked for its help (-h, --help):
	// its usage then goes to stdout and the exit code is 0.
	help bool
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
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 { // help CMD is CMD --help
			if _, ok := commands[args[1]]; ok {
				return Run([]string{args[1], "--help"}, stdin, stdout, stderr)
			}
			fmt.Fprintf(stderr, "connrules: unknown command %q\n", args[1])
			return exitUsage
		}
		usage(stdout)
		return exitOK
	case "-version", "--version":
		args = []string{"version"}
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "connrules: unknown command %q\n", args[0])
		usage(stderr)
		return exitUsage
	}
	code := c.run(context.Background(), e, args[1:])
	if e.help && code == exitUsage {
		return exitOK
	}
	return code
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: connrules <command> [flags] [args]")
	fmt.Fprintln(w, "       connrules --version")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'connrules help <command>' or 'connrules <command> --help' for a command's flags.")
	fmt.Fprintln(w, "\n"+exitCodes)
	fmt.Fprintln(w, "\nconnrules is licensed under the Apache License 2.0.")
}

// newFlags makes a FlagSet that does not exit. Its usage goes to stderr
// after a mistake, and to stdout, with exit code 0, when asked for with
// -h or --help (Run turns the command's exitUsage into exitOK).
func newFlags(e *Env, name, args string, details ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	fs.BoolVar(&e.help, "h", false, "show this help")
	fs.BoolVar(&e.help, "help", false, "show this help")
	fs.Usage = func() {
		w := e.Stderr
		if e.help {
			w = e.Stdout
		}
		fs.SetOutput(w)
		fmt.Fprintf(w, "usage: connrules %s %s\n", name, args)
		for _, d := range details {
			fmt.Fprintln(w, d)
		}
		fmt.Fprintln(w, "\nflags:")
		fs.PrintDefaults()
		fmt.Fprintln(w, "\n"+exitCodes)
		fs.SetOutput(e.Stderr)
	}
	return fs
}

// parseFlags parses flags anywhere among the arguments, as users expect.
// After -h or --help it prints the usage and returns flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if h := fs.Lookup("help"); h != nil && h.Value.String() == "true" {
			fs.Usage()
			return nil, flag.ErrHelp
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// loadPolicy reads and compiles a policy natively, printing any errors;
// ok is false when it failed. loadPolicyCode says which exit code the
// failure calls for.
func loadPolicy(e *Env, path string) (p *rules.Policy, src []byte, ok bool) {
	p, src, code := loadPolicyCode(e, path)
	return p, src, code == exitOK
}

// loadPolicyCode reads and compiles a policy natively. Errors are printed
// with positions and carets. The code is exitUsage when the file cannot
// be read (an I/O error has no position), exitFail when it does not
// compile, and exitOK otherwise.
func loadPolicyCode(e *Env, path string) (*rules.Policy, []byte, int) {
	src, err := rules.ReadFile(path) // refuses an oversized file before reading it
	var tooLarge rules.ErrorList
	if errors.As(err, &tooLarge) {
		fmt.Fprintln(e.Stderr, err)
		return nil, nil, exitFail
	} else if err != nil {
		fmt.Fprintf(e.Stderr, "connrules: %v\n", err)
		return nil, nil, exitUsage
	}
	p, err := rules.Load(path, src)
	if err != nil {
		fmt.Fprintln(e.Stderr, err)
		var list rules.ErrorList
		if errors.As(err, &list) {
			fmt.Fprintf(e.Stderr, "%s: %d error%s\n", path, len(list), plural(len(list)))
		}
		return nil, nil, exitFail
	}
	return p, src, exitOK
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
