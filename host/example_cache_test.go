package host_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/connrules/connrules/host"
)

// New keeps the compiled module in DefaultCacheDir, a directory per
// module under the user's cache directory; a program that must not write
// there turns the cache off.
func ExampleWithoutCompilationCache() {
	ctx := context.Background()
	eng, err := host.New(ctx, host.WithPoolSize(1), host.WithoutCompilationCache())
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close(ctx)
	src, err := os.ReadFile("../policies.yaml")
	if err != nil {
		log.Fatal(err)
	}
	if err := eng.Load(ctx, "policies.yaml", src); err != nil {
		log.Fatal(err)
	}
	fmt.Println(eng.PolicyName() != "")
	// Output: true
}

// DefaultCacheDir is named after the embedded module, so a new module
// never reads an old one's code.
func ExampleDefaultCacheDir() {
	dir := host.DefaultCacheDir()
	fmt.Println(dir == "" || strings.HasPrefix(filepath.Base(dir), "wazero-"))
	// Output: true
}
