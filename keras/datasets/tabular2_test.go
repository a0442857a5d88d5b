package datasets

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestTables(t *testing.T) {
	type table struct {
		name          string
		load          func() (x, y []float32, shape []int, names []string, err error)
		shape         []int
		classNames    []string
		classCounts   []int     // nil for a regression target
		firstX        []float32 // first data row of the file
		firstY        float32
		lastX         []float32
		lastY         float32
		featureValues []float32 // every feature is one of these (nil: any)
		yMin, yMax    float32   // regression target range
	}
	cases := []table{
		{
			name: "house-votes-84",
			load: func() ([]float32, []float32, []int, []string, error) {
				x, y, names, err := HouseVotes()
				if err != nil {
					return nil, nil, nil, nil, err
				}
				return x.Data().([]float32), y.Data().([]float32), x.Shape(), names, nil
			},
			shape: []int{435, 16}, classNames: []string{"democrat", "republican"}, classCounts: []int{267, 168},
			// 1,-1,1,-1,1,1,1,-1,-1,-1,1,-1,1,1,1,-1,republican
			firstX: []float32{1, -1, 1, -1, 1, 1, 1, -1, -1, -1, 1, -1, 1, 1, 1, -1}, firstY: 1,
			// -1,-1,1,-1,1,1,1,-1,-1,-1,1,-1,1,1,1,-1,republican
			lastX: []float32{-1, -1, 1, -1, 1, 1, 1, -1, -1, -1, 1, -1, 1, 1, 1, -1}, lastY: 1,
			featureValues: []float32{-1, 1},
		},
		{
			name: "titanic",
			load: func() ([]float32, []float32, []int, []string, error) {
				x, y, err := Titanic()
				if err != nil {
					return nil, nil, nil, nil, err
				}
				return x.Data().([]float32), y.Data().([]float32), x.Shape(), TitanicClasses, nil
			},
			shape: []int{889, 3}, classNames: []string{"died", "survived"}, classCounts: []int{549, 340},
			firstX: []float32{3, 1, 2}, firstY: 0, // 3,1,2,0
			lastX: []float32{3, 1, 1}, lastY: 0, // 3,1,1,0
			featureValues: []float32{0, 1, 2, 3},
		},
		{
			name: "boston_house_prices",
			load: func() ([]float32, []float32, []int, []string, error) {
				x, y, err := HousePrices()
				if err != nil {
					return nil, nil, nil, nil, err
				}
				return x.Data().([]float32), y.Data().([]float32), x.Shape(), nil, nil
			},
			shape:  []int{1460, 1},
			firstX: []float32{7}, firstY: 208500, // 7,208500
			lastX: []float32{5}, lastY: 147500, // 5,147500
			featureValues: []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
			// Kaggle's Ames training prices range from 34,900 to 755,000 dollars.
			yMin: 34900, yMax: 755000,
		},
	}
	for _, c := range cases {
		xs, ys, shape, names, err := c.load()
		if err != nil {
			t.Errorf("%s: %+v", c.name, err)
			continue
		}
		if !equalInts(shape, c.shape) || len(ys) != c.shape[0] {
			t.Errorf("%s: x shape %v, %d labels; want %v, %d", c.name, shape, len(ys), c.shape, c.shape[0])
			continue
		}
		d := c.shape[1]
		if got := xs[:d]; !equalFloats(got, c.firstX) || ys[0] != c.firstY {
			t.Errorf("%s: first row %v label %v, want %v label %v", c.name, got, ys[0], c.firstX, c.firstY)
		}
		n := c.shape[0]
		if got := xs[(n-1)*d:]; !equalFloats(got, c.lastX) || ys[n-1] != c.lastY {
			t.Errorf("%s: last row %v label %v, want %v label %v", c.name, got, ys[n-1], c.lastX, c.lastY)
		}
		if len(names) != len(c.classNames) {
			t.Errorf("%s: class names %q, want %q", c.name, names, c.classNames)
		}
		for i := range names {
			if i < len(c.classNames) && names[i] != c.classNames[i] {
				t.Errorf("%s: class names %q, want %q", c.name, names, c.classNames)
				break
			}
		}
		if c.classCounts != nil {
			counts := make([]int, len(c.classCounts))
			for i, v := range ys {
				if v != float32(int(v)) || int(v) < 0 || int(v) >= len(counts) {
					t.Fatalf("%s: label %d is %v, want a class index", c.name, i, v)
				}
				counts[int(v)]++
			}
			if !equalInts(counts, c.classCounts) {
				t.Errorf("%s: class counts %v, want %v", c.name, counts, c.classCounts)
			}
		} else {
			for i, v := range ys {
				if v < c.yMin || v > c.yMax {
					t.Errorf("%s: target %d is %v, want it in [%v, %v]", c.name, i, v, c.yMin, c.yMax)
					break
				}
			}
		}
		allowed := map[float32]bool{}
		for _, v := range c.featureValues {
			allowed[v] = true
		}
		for i, v := range xs {
			if !allowed[v] {
				t.Errorf("%s: feature %d of row %d is %v, want one of %v", c.name, i%d, i/d, v, c.featureValues)
				break
			}
		}
	}
}

// TestGolearnTablesMatch checks the embedded tables against golearn's files
// when that module is already in the module cache (it is not downloaded
// for this test).
func TestGolearnTablesMatch(t *testing.T) {
	cache := goEnv("GOMODCACHE")["GOMODCACHE"]
	dir := filepath.Join(cache, escapeModulePath(golearnModule)+"@"+golearnVersion, "examples", "datasets")
	if _, err := os.Stat(dir); cache == "" || err != nil {
		t.Skipf("%s@%s is not in the module cache", golearnModule, golearnVersion)
	}
	for name, embedded := range map[string][]byte{
		"house-votes-84.csv":      houseVotesCSV,
		"titanic.csv":             titanicCSV,
		"boston_house_prices.csv": housePricesCSV,
	} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if !bytes.Equal(raw, embedded) {
			t.Errorf("embedded %s (%d bytes) differs from golearn's (%d bytes)", name, len(embedded), len(raw))
		}
	}
}
