package datasets

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"

	"github.com/pkg/errors"
)

// idxUbyte is the IDX type code of unsigned bytes, the only one MNIST uses.
const idxUbyte = 0x08

// maxIDXBytes bounds the data size a header may announce (1 GiB), so a
// corrupt header gives an error rather than a huge allocation.
const maxIDXBytes = 1 << 30

// readIDX reads an IDX file of unsigned bytes with ndims dimensions, gzipped
// or not (told apart by the gzip magic), and returns its dimensions and data.
// Every error names the file.
func readIDX(path string, ndims int) (dims []int, data []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, errors.Wrap(err, "datasets")
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	var r io.Reader = br
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, errors.Wrapf(err, "datasets: %s is not a valid gzip file", path)
		}
		defer zr.Close()
		r = zr
	}

	// Header: two zero bytes, the type code, the number of dimensions, then
	// one big-endian uint32 per dimension.
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, nil, idxReadError(path, "its header", err)
	}
	want := [4]byte{0, 0, idxUbyte, byte(ndims)}
	if magic != want {
		return nil, nil, errors.Errorf("datasets: %s is not an IDX file of unsigned bytes with %d dimensions: magic number 0x%08x, want 0x%08x",
			path, ndims, binary.BigEndian.Uint32(magic[:]), binary.BigEndian.Uint32(want[:]))
	}
	raw := make([]byte, 4*ndims)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, nil, idxReadError(path, "its dimensions", err)
	}
	size := 1
	dims = make([]int, ndims)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(raw[4*i:]))
		if dims[i] == 0 || dims[i] > maxIDXBytes || size*dims[i] > maxIDXBytes {
			return nil, nil, errors.Errorf("datasets: %s is corrupt: dimension %d is %d; want at least 1 and at most %d bytes in all",
				path, i, dims[i], maxIDXBytes)
		}
		size *= dims[i]
	}

	data = make([]byte, size)
	if n, err := io.ReadFull(r, data); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, nil, errors.Errorf("datasets: %s is truncated: dimensions %v need %d data bytes, the file holds %d", path, dims, size, n)
		}
		return nil, nil, idxReadError(path, "its data", err)
	}
	// Reading on to the end makes gzip verify its checksum; an uncompressed
	// file can only have extra bytes here.
	extra, err := io.Copy(io.Discard, r)
	if err != nil {
		return nil, nil, idxReadError(path, "its gzip trailer", err)
	}
	if extra > 0 {
		return nil, nil, errors.Errorf("datasets: %s has %d bytes after the %d that dimensions %v announce", path, extra, size, dims)
	}
	return dims, data, nil
}

func idxReadError(path, what string, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.Errorf("datasets: %s is truncated: it ends inside %s", path, what)
	}
	return errors.Wrapf(err, "datasets: %s is corrupt: reading %s", path, what)
}
