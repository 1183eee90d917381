// Command connrules lints policies, decides requests and runs a policy's
// own tests. See README.md.
package main

import (
	"os"

	"github.com/connrules/connrules/cmd/connrules/cli"
)

func main() { os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
