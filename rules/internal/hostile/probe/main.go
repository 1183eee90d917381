package main

import (
	"fmt"
	"os"
	"time"

	"github.com/connrules/connrules/rules"
	"github.com/connrules/connrules/rules/internal/hostile"
)

func main() {
	for _, c := range hostile.Cases() {
		if len(os.Args) > 1 && c.Name != os.Args[1] {
			continue
		}
		if len(os.Args) == 1 {
			fmt.Println(c.Name, len(c.Src))
			continue
		}
		t := time.Now()
		_, err := rules.Load(c.Name+".yaml", c.Src)
		s := fmt.Sprint(err)
		if len(s) > 300 {
			s = s[:300]
		}
		fmt.Printf("%s: %v: %s\n", c.Name, time.Since(t), s)
	}
}
