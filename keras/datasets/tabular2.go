package datasets

import (
	"bytes"
	_ "embed"

	"gorgonia.org/tensor"
)

// The small tables of github.com/sjwhitworth/golearn's examples/datasets
// (MIT licence), embedded as Iris is: 44 KB together, where GolearnFile
// would download golearn's 26 MB module on first use. They are byte for
// byte golearn's files (TestGolearnTablesMatch checks it when the module is
// in the module cache).
var (
	//go:embed data/house-votes-84.csv
	houseVotesCSV []byte
	//go:embed data/titanic.csv
	titanicCSV []byte
	//go:embed data/boston_house_prices.csv
	housePricesCSV []byte
)

// HouseVotes returns the 1984 United States Congressional Voting Records
// (UCI's house-votes-84) as golearn ships them: x (435, 16) float32 holding
// each representative's 16 key votes as +1 (yea) or −1 (nay or unknown),
// in the file's column order (v16, v1, v2, …, v15); y (435) float32
// holding the party as an index into classNames, "democrat" (267 rows) and
// "republican" (168). The data is embedded in the package.
func HouseVotes() (x, y *tensor.Dense, classNames []string, err error) {
	return readCSV(bytes.NewReader(houseVotesCSV), "house-votes-84.csv", -1)
}

// TitanicClasses names Titanic's labels: 0 died, 1 survived.
var TitanicClasses = []string{"died", "survived"}

// Titanic returns 889 passengers of the Titanic (Kaggle's training set
// without the two whose port of embarkation is unknown) as golearn ships
// them: x (889, 3) float32 holding the ticket class (1, 2, 3), the sex (0
// female, 1 male) and the port of embarkation (0 Cherbourg, 1 Queenstown,
// 2 Southampton); y (889) float32, 1 if the passenger survived (340 did),
// 0 if not (see TitanicClasses). The data is embedded in the package.
func Titanic() (x, y *tensor.Dense, err error) {
	x, y, _, err = readCSV(bytes.NewReader(titanicCSV), "titanic.csv", -1)
	return x, y, err
}

// HousePrices returns golearn's boston_house_prices.csv which, despite its
// name, is not the Boston housing data but two columns of Kaggle's house
// prices in Ames, Iowa (De Cock 2011): x (1460, 1) float32 holding the
// overall quality of the house on a scale of 1 to 10, and y (1460) float32
// its sale price in dollars, a regression target. The data is embedded in
// the package.
func HousePrices() (x, y *tensor.Dense, err error) {
	x, y, _, err = readCSV(bytes.NewReader(housePricesCSV), "boston_house_prices.csv", -1)
	return x, y, err
}
