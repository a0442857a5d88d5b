package training

import (
	"bufio"
	"encoding/csv"
	"io"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// CSVLogger returns a callback that writes one line per epoch to the CSV
// file at path, as Keras 3's CSVLogger: a header "epoch" plus the keys of
// the first epoch's logs in sorted order, then per epoch its number
// (counted from 0, as in Keras) and the values, formatted as Python's str
// does ("0.25", "1.0", "nan"). A key absent from a later epoch is written
// "NA"; a key that first appears later is not written. Lines end in "\n"
// (Python's csv module would write "\r\n"); fields holding the separator
// or a quote are quoted.
//
// separator is one character; "" means ",". With appending false the file
// is truncated when training begins; with appending true rows are added to
// it, with a header only if the file is missing or empty.
//
// The file is opened, written and closed at every epoch end, so each row
// is on disk once the epoch ends and nothing stays open if Fit fails.
// Errors opening or writing the file abort Fit.
func CSVLogger(path, separator string, appending bool) Callback {
	s := &csvLogger{path: path, sep: separator, appending: appending}
	return Callback{Name: "CSVLogger", OnTrainBegin: s.trainBegin, OnEpochEnd: s.epochEnd}
}

type csvLogger struct {
	path      string
	sep       string
	appending bool

	ready  bool
	comma  rune
	keys   []string // nil until the first epoch ends
	header bool     // the header is still to write
}

func (s *csvLogger) trainBegin(*Run) error {
	if s.path == "" {
		return errors.New("training: CSVLogger: the path is empty")
	}
	comma := ','
	if s.sep != "" {
		r, n := utf8.DecodeRuneInString(s.sep)
		if n != len(s.sep) || r == utf8.RuneError || r == '"' || r == '\r' || r == '\n' {
			return errors.Errorf("training: CSVLogger: the separator must be one character other than a quote or a line break, got %q", s.sep)
		}
		comma = r
	}
	s.comma, s.keys, s.header, s.ready = comma, nil, true, true
	if s.appending {
		f, err := os.Open(s.path)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return errors.Wrap(err, "training: CSVLogger")
		}
		defer f.Close()
		line, err := bufio.NewReader(f).ReadString('\n')
		if line == "" && err != nil && !errors.Is(err, io.EOF) {
			return errors.Wrapf(err, "training: CSVLogger: reading %s", s.path)
		}
		s.header = line == ""
		return nil
	}
	f, err := os.Create(s.path)
	if err != nil {
		return errors.Wrap(err, "training: CSVLogger")
	}
	return errors.Wrap(f.Close(), "training: CSVLogger")
}

func (s *csvLogger) epochEnd(r *Run, epoch int, logs Logs) (err error) {
	if !s.ready {
		if err := s.trainBegin(r); err != nil {
			return err
		}
	}
	if s.keys == nil {
		s.keys = logs.Keys()
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return errors.Wrap(err, "training: CSVLogger")
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = errors.Wrap(cerr, "training: CSVLogger")
		}
	}()
	w := csv.NewWriter(f)
	w.Comma = s.comma
	if s.header {
		_ = w.Write(append([]string{"epoch"}, s.keys...)) // errors surface in w.Error
	}
	row := make([]string, 0, len(s.keys)+1)
	row = append(row, strconv.Itoa(epoch))
	for _, k := range s.keys {
		if v, ok := logs[k]; ok {
			row = append(row, pyFloat(v))
		} else {
			row = append(row, "NA")
		}
	}
	_ = w.Write(row)
	w.Flush()
	if err := w.Error(); err != nil {
		return errors.Wrapf(err, "training: CSVLogger: writing %s", s.path)
	}
	s.header = false
	return nil
}
