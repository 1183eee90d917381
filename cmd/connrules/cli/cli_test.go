package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type cliCase struct {
	Name           string   `yaml:"name"`
	Args           []string `yaml:"args"`
	Stdin          string   `yaml:"stdin"`
	Exit           int      `yaml:"exit"`
	Stdout         *string  `yaml:"stdout"`
	Stderr         *string  `yaml:"stderr"`
	StdoutContains []string `yaml:"stdout_contains"`
	StderrContains []string `yaml:"stderr_contains"`
}

func TestCLI(t *testing.T) {
	src, err := os.ReadFile("testdata/cli.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []cliCase
	if err := yaml.Unmarshal(src, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(c.Args, strings.NewReader(c.Stdin), &out, &errb)
			if code != c.Exit {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.Exit, out.String(), errb.String())
			}
			if c.Stdout != nil && out.String() != *c.Stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), *c.Stdout)
			}
			if c.Stderr != nil && errb.String() != *c.Stderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", errb.String(), *c.Stderr)
			}
			for _, s := range c.StdoutContains {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			for _, s := range c.StderrContains {
				if !strings.Contains(errb.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, errb.String())
				}
			}
		})
	}
}
