package keras

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/errors"
)

// Hooks for tests: they simulate a failure in the middle of a save.
var (
	renameFile = os.Rename
	syncFile   = func(f *os.File) error { return f.Sync() }
)

// staleTempAge is how long a temporary file must have gone unmodified for
// a save to remove it whoever wrote it. A live save writes its temporary
// file continuously (a buffer's worth at a time), then syncs and renames
// it: an hour without a write means its writer is dead or hung.
const staleTempAge = time.Hour

// writeAtomic writes the file at path through write, for op ("Save",
// "SaveWeights"), so that no reader ever sees a partial file and a
// failure leaves any previous file as it was:
//
//   - A symbolic link at path is followed (through up to 40 links): the
//     file it points to is replaced and the link kept, as writing through
//     the link would. A link to a missing file creates that file.
//   - An existing file that is read-only is refused, not replaced,
//     although the directory would allow the rename: one without any
//     write permission bit (even for root, who could write it), or one
//     this process may not open for writing. So is an existing path that
//     is not a regular file (a directory, a device).
//   - The bytes go to a temporary file next to the target,
//     ".<name>.tmp-<host>-<pid>-<random>" (host: 8 hex digits of a hash of
//     the host name), with the target's permission bits when it exists
//     (else 0666 less the umask); it is synced, closed and renamed over
//     the target, and the directory synced. On an error the temporary file
//     is removed.
//   - First, the temporary files of earlier saves to the same target that
//     were killed before their rename are removed (removeStaleTemps).
func writeAtomic(op, path string, write func(io.Writer) error) (err error) {
	fail := func(err error) error { return errors.WithMessagef(err, "keras: %s %s", op, path) }
	if path == "" {
		return errors.Errorf("keras: %s: empty path", op)
	}
	target, existing, err := resolveTarget(path)
	if err != nil {
		return fail(err)
	}
	mode := os.FileMode(0o666)
	if existing != nil {
		if !existing.Mode().IsRegular() {
			return fail(errors.Errorf("%s exists and is not a regular file (%v)", target, existing.Mode().Type()))
		}
		if existing.Mode().Perm()&0o222 == 0 {
			return fail(errors.Errorf("%s is read-only (mode %v): %s does not replace it", target, existing.Mode().Perm(), op))
		}
		// Opening for writing, without truncating, changes nothing.
		f, err := os.OpenFile(target, os.O_WRONLY, 0)
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return fail(errors.Errorf("%s is read-only: %s does not replace it", target, op))
			}
			return fail(errors.Wrap(err, "checking the file"))
		}
		f.Close()
		mode = existing.Mode().Perm()
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	removeStaleTemps(dir, base, time.Now())
	f, tmp, err := createTemp(dir, base)
	if err != nil {
		return fail(err)
	}
	closed := false
	defer func() {
		if err == nil {
			return
		}
		if !closed {
			f.Close()
		}
		os.Remove(tmp)
		err = fail(err)
	}()
	if existing != nil {
		if err = f.Chmod(mode); err != nil {
			return errors.Wrap(err, "setting the file mode")
		}
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return errors.Wrap(err, "writing")
	}
	if err = syncFile(f); err != nil {
		return errors.Wrap(err, "syncing")
	}
	closed = true
	if err = f.Close(); err != nil {
		return errors.Wrap(err, "closing")
	}
	if err = renameFile(tmp, target); err != nil {
		return errors.Wrap(err, "replacing the file")
	}
	// Make the rename durable; some systems cannot sync a directory, and
	// the file itself is complete either way.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// resolveTarget follows symbolic links from path to the file a save
// replaces, and returns its FileInfo (nil if it does not exist).
func resolveTarget(path string) (string, os.FileInfo, error) {
	for range 40 {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil, nil
		}
		if err != nil {
			return "", nil, errors.Wrap(err, "reading the target")
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			return path, fi, nil
		}
		dest, err := os.Readlink(path)
		if err != nil {
			return "", nil, errors.Wrap(err, "following a symbolic link")
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(path), dest)
		}
		path = dest
	}
	return "", nil, errors.Errorf("more than 40 symbolic links from %s", path)
}

// hostTag is 8 hex digits of a hash of the host name, telling this
// machine's temporary files from those of others sharing the directory.
var hostTag = sync.OnceValue(func() string {
	name, err := os.Hostname()
	if err != nil {
		name = "unknown"
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return fmt.Sprintf("%08x", h.Sum32())
})

// tempPrefix starts the names of the temporary files of saves to base.
func tempPrefix(base string) string { return "." + base + ".tmp-" }

// createTemp creates a new temporary file for base in dir.
func createTemp(dir, base string) (*os.File, string, error) {
	for range 100 {
		name := filepath.Join(dir, fmt.Sprintf("%s%s-%d-%d", tempPrefix(base), hostTag(), os.Getpid(), rand.Uint32()))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", errors.Wrap(err, "creating the temporary file")
		}
		return f, name, nil
	}
	return nil, "", errors.Errorf("creating a temporary file in %s: 100 names taken", dir)
}

// removeStaleTemps removes, from dir, the temporary files of saves to base
// that can no longer be renamed: a regular file named as writeAtomic names
// them (or as Keragon's earlier versions did, ".<name>.tmp-<digits>")
// that either
//
//   - has not been modified for staleTempAge, or
//   - was made on this host by another process that no longer runs
//     (Unix: kill(pid, 0) reports no such process).
//
// This is safe with saves running concurrently, in this process or others:
// a live save's file is modified as it is written and its process runs,
// so neither rule removes it. Were a writer's file removed all the same
// (a save stalled for an hour, or a process in another PID namespace with
// the same host name), that save's rename fails and it returns an error:
// the target is never touched here, so no data is lost. Errors are
// ignored: cleaning is best effort.
func removeStaleTemps(dir, base string, now time.Time) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	defer d.Close()
	prefix := tempPrefix(base)
	for {
		names, err := d.Readdirnames(1024)
		for _, n := range names {
			if rest, ok := strings.CutPrefix(n, prefix); ok && staleTemp(filepath.Join(dir, n), rest, now) {
				os.Remove(filepath.Join(dir, n))
			}
		}
		if err != nil {
			return
		}
	}
}

// staleTemp applies removeStaleTemps's rules to the file at path, whose
// name ends with rest after the prefix.
func staleTemp(path, rest string, now time.Time) bool {
	host, pid, ours := parseTempSuffix(rest)
	if !ours && !isDigits(rest) {
		return false
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	if now.Sub(fi.ModTime()) > staleTempAge {
		return true
	}
	return ours && host == hostTag() && pid != os.Getpid() && !processAlive(pid)
}

// parseTempSuffix reads "<host>-<pid>-<random>".
func parseTempSuffix(s string) (host string, pid int, ok bool) {
	parts := strings.Split(s, "-")
	if len(parts) != 3 || len(parts[0]) != 8 || !isDigits(parts[1]) || !isDigits(parts[2]) {
		return "", 0, false
	}
	if _, err := strconv.ParseUint(parts[0], 16, 32); err != nil {
		return "", 0, false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 {
		return "", 0, false
	}
	return parts[0], pid, true
}

func isDigits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
