package tripgen

// Place is a point a trip starts or ends at, with the name a reverse geocoder would give it.
type Place struct {
	Name string  // e.g. "Marché central, Les Halles, La Rochelle"
	Lon  float64 // degrees east
	Lat  float64 // degrees north
}

// The place catalogue is built by functions, not held in package variables, so that nothing
// package-level can be changed by a caller.

// homeAreas are residential areas of the La Rochelle agglomeration.
func homeAreas() []Place {
	return []Place{
		{"Rue du Palais, La Rochelle", -1.1515, 46.1605},
		{"Avenue Jean Guiton, Fétilly, La Rochelle", -1.1390, 46.1675},
		{"Rue de Suède, Mireuil, La Rochelle", -1.1655, 46.1775},
		{"Avenue des Minimes, La Rochelle", -1.1590, 46.1450},
		{"Rue de Périgny, Tasdon, La Rochelle", -1.1330, 46.1525},
		{"Avenue du Lazaret, Port-Neuf, La Rochelle", -1.1850, 46.1655},
		{"Rue de Laleu, La Rochelle", -1.1955, 46.1725},
		{"Rue du Bois Fleuri, Lagord", -1.1515, 46.1880},
		{"Avenue du Général Leclerc, Aytré", -1.1185, 46.1350},
		{"Rue des Salines, Villeneuve-les-Salines, La Rochelle", -1.1165, 46.1485},
		{"Rue de la République, Périgny", -1.0870, 46.1535},
		{"Rue de Dompierre, Puilboreau", -1.1080, 46.1835},
		{"Rue du Port, Nieul-sur-Mer", -1.1640, 46.2060},
		{"Rue Saint-Jean-du-Pérot, La Rochelle", -1.1560, 46.1575},
	}
}

// workPlaces are employers of the agglomeration.
func workPlaces() []Place {
	return []Place{
		{"Hôpital Saint-Louis, La Rochelle", -1.1449, 46.1560},
		{"Université de La Rochelle, Les Minimes", -1.1535, 46.1425},
		{"Zone industrielle de Périgny", -1.0980, 46.1560},
		{"Port de La Pallice, La Rochelle", -1.2215, 46.1585},
		{"Hôtel de Ville, La Rochelle", -1.1517, 46.1596},
		{"Parc d'activités de Lagord", -1.1405, 46.1855},
		{"Centre commercial Beaulieu, Puilboreau", -1.1190, 46.1800},
		{"Atlantech, Lagord", -1.1300, 46.1830},
		{"Gare de La Rochelle", -1.1452, 46.1527},
		{"Zone de Bongraine, Aytré", -1.1050, 46.1320},
		{"Rue Saint-Yon, La Rochelle", -1.1500, 46.1610},
	}
}

// leisurePlaces are where people go outside work, by kind.
func leisurePlaces(kind string) []Place {
	switch kind {
	case "market":
		return []Place{
			{"Marché central, Les Halles, La Rochelle", -1.1509, 46.1617},
			{"Marché de Lagord", -1.1525, 46.1895},
		}
	case "shop":
		return []Place{
			{"Centre commercial Beaulieu, Puilboreau", -1.1190, 46.1800},
			{"Rue du Palais, La Rochelle", -1.1515, 46.1600},
			{"Centre commercial Les Minimes", -1.1560, 46.1440},
			{"Hypermarché, Angoulins", -1.1040, 46.1080},
			{"Supermarché, Mireuil", -1.1650, 46.1760},
		}
	case "meal":
		return []Place{
			{"Vieux-Port, La Rochelle", -1.1530, 46.1580},
			{"Rue Saint-Nicolas, La Rochelle", -1.1500, 46.1565},
			{"Cours des Dames, La Rochelle", -1.1535, 46.1586},
		}
	case "sport":
		return []Place{
			{"Stade Marcel-Deflandre, La Rochelle", -1.1250, 46.1650},
			{"Piscine de Lagord", -1.1480, 46.1870},
			{"Salle de sport, Les Minimes", -1.1555, 46.1470},
			{"Parc Franck Delmas, La Rochelle", -1.1370, 46.1580},
		}
	case "night":
		return []Place{
			{"Rue Saint-Nicolas, La Rochelle", -1.1500, 46.1565},
			{"Quai Duperré, La Rochelle", -1.1520, 46.1585},
			{"La Coursive, La Rochelle", -1.1510, 46.1570},
		}
	case "beach":
		return []Place{
			{"Plage des Minimes, La Rochelle", -1.1660, 46.1402},
			{"Plage de la Concurrence, La Rochelle", -1.1625, 46.1550},
			{"Plage d'Aytré", -1.1270, 46.1250},
			{"Parc Charruyer, La Rochelle", -1.1590, 46.1620},
		}
	case "excursion":
		return []Place{
			{"Port de Saint-Martin-de-Ré", -1.3670, 46.2030},
			{"Plage de Châtelaillon-Plage", -1.0890, 46.0740},
			{"Centre-ville de Rochefort", -0.9608, 45.9375},
			{"Plage de Rivedoux, Île de Ré", -1.2720, 46.1580},
		}
	}
	return nil
}

// Transport hubs.
func station() Place { return Place{"Gare de La Rochelle", -1.1452, 46.1527} }
func airport() Place { return Place{"Aéroport de La Rochelle - Île de Ré", -1.1953, 46.1792} }

// trainTrip is a rail day trip from La Rochelle: the line through its main stations, and where the
// traveller walks to on arrival.
type trainTrip struct {
	line        []Place // first is La Rochelle's station, last the destination's
	meeting     Place
	cruise      float64 // m/s
	cruiseNoise float64
}

func trainTrips() []trainTrip {
	return []trainTrip{
		{ // TGV to Paris via Niort, Poitiers, Saint-Pierre-des-Corps.
			line: []Place{station(),
				{"Gare de Niort", -0.4600, 46.3175},
				{"Gare de Poitiers", 0.3331, 46.5822},
				{"Gare de Saint-Pierre-des-Corps", 0.7236, 47.3860},
				{"Massy TGV", 2.2600, 48.7255},
				{"Paris Montparnasse", 2.3209, 48.8412}},
			meeting: Place{"Boulevard du Montparnasse, Paris", 2.3372, 48.8462},
			cruise:  52, cruiseNoise: 4,
		},
		{ // TER to Bordeaux via Rochefort and Saintes.
			line: []Place{station(),
				{"Gare de Rochefort", -0.9645, 45.9465},
				{"Gare de Saintes", -0.6243, 45.7415},
				{"Bordeaux Saint-Jean", -0.5563, 44.8256}},
			meeting: Place{"Place de la Victoire, Bordeaux", -0.5720, 44.8310},
			cruise:  30, cruiseNoise: 3,
		},
	}
}

// flightDestinations are airports with flights from La Rochelle in the same time zone.
func flightDestinations() []Place {
	return []Place{
		{"Aéroport de Lyon Saint-Exupéry", 5.0811, 45.7256},
		{"Brussels Airport", 4.4844, 50.9014},
	}
}

// reBridge is the road over the sea to Île de Ré: trips to and from the island follow it.
func reBridge() []Place {
	return []Place{{"Pont de l'île de Ré", -1.2309, 46.1668}, {"Rivedoux-Plage", -1.2680, 46.1600}}
}

// onIleDeRe reports whether a place is on Île de Ré (west of the bridge).
func onIleDeRe(p Place) bool { return p.Lon < -1.245 && p.Lat > 46.14 && p.Lat < 46.35 }
