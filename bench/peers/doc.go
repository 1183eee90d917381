// Package peers compares connrules with its peers on the invite stage of
// the default policy: OPA (Rego), cel-go (CEL) and a hand-written Go
// function, the floor. It is its own module so that OPA and cel-go stay
// out of the library's import graph.
package peers
