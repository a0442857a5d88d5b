package datasets

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	text, err := Text()
	if err != nil {
		t.Fatalf("Text: %+v", err)
	}
	// The file has been 567198 bytes since it was added to Go's testdata.
	if len(text) != 567198 {
		t.Errorf("Text is %d bytes, want 567198", len(text))
	}
	if !utf8.ValidString(text) {
		t.Error("Text is not valid UTF-8")
	}
	for _, want := range []string{"OPTICKS", "Sir _ISAAC NEWTON"} {
		if !strings.Contains(text, want) {
			t.Errorf("Text does not contain %q", want)
		}
	}
	again, err := Text()
	if err != nil || again != text {
		t.Errorf("second call: %d bytes, error %v; want the same text", len(again), err)
	}
}

func TestCharVocab(t *testing.T) {
	chars, index := CharVocab("hello, wörld")
	want := []rune{' ', ',', 'd', 'e', 'h', 'l', 'o', 'r', 'w', 'ö'}
	if string(chars) != string(want) {
		t.Errorf("chars %q, want %q", string(chars), string(want))
	}
	if len(index) != len(chars) {
		t.Errorf("index has %d entries, want %d", len(index), len(chars))
	}
	for i, r := range chars {
		if index[r] != i {
			t.Errorf("index[%q] = %d, want %d", r, index[r], i)
		}
	}
	if chars, index := CharVocab(""); len(chars) != 0 || len(index) != 0 {
		t.Errorf("CharVocab(\"\") = %q, %v; want empty", string(chars), index)
	}
}
