package datasets

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pkg/errors"
)

// opticksFile is the path of the text, under GOROOT, that Text returns.
var opticksFile = filepath.Join("src", "testdata", "Isaac.Newton-Opticks.txt")

// textCache keeps the text after the first successful read; a failure is
// retried on the next call.
var textCache struct {
	sync.Mutex
	text string
	ok   bool
}

// Text returns Isaac Newton's Opticks (Project Gutenberg's text, about
// 567,000 characters of English), which every Go installation ships as
// $GOROOT/src/testdata/Isaac.Newton-Opticks.txt: a corpus for character
// and word models that needs no download. GOROOT is found with
// `go env GOROOT`, else $GOROOT.
func Text() (string, error) {
	c := &textCache
	c.Lock()
	defer c.Unlock()
	if c.ok {
		return c.text, nil
	}
	var roots []string
	if out, err := goCommand(30*time.Second, os.TempDir(), "env", "GOROOT"); err == nil {
		roots = append(roots, strings.TrimSpace(string(out)))
	}
	roots = append(roots, os.Getenv("GOROOT"))
	var tried []string
	for _, root := range roots {
		if root == "" {
			continue
		}
		path := filepath.Join(root, opticksFile)
		raw, err := os.ReadFile(path)
		if err != nil {
			tried = append(tried, path)
			continue
		}
		c.text, c.ok = string(raw), true
		return c.text, nil
	}
	return "", errors.Wrapf(ErrNotFound, "datasets: the text corpus is not in any GOROOT (tried %q); is the Go toolchain installed with its sources?", tried)
}

// CharVocab returns the distinct characters of text in increasing order,
// and each one's position in chars, for one-hot or embedding inputs:
// index[chars[i]] == i.
func CharVocab(text string) (chars []rune, index map[rune]int) {
	index = map[rune]int{}
	for _, r := range text {
		if _, ok := index[r]; !ok {
			index[r] = 0
			chars = append(chars, r)
		}
	}
	sort.Slice(chars, func(i, j int) bool { return chars[i] < chars[j] })
	for i, r := range chars {
		index[r] = i
	}
	return chars, index
}
