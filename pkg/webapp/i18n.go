package webapp

import (
	"net/http"
	"strings"
)

// messages are the UI's texts by language; English is the fallback for a missing key.
var messages = map[string]map[string]string{
	"en": {
		"app.title": "Coach CO2", "nav.dashboard": "Dashboard", "nav.trips": "Trips", "nav.analysis": "Analysis",
		"nav.settings": "Settings", "nav.exports": "Exports", "nav.main": "Main menu",
		"dash.chart": "CO2 of the last 12 months", "dash.thisMonth": "This month", "dash.lastMonth": "Last month",
		"dash.byMode": "By mode", "dash.byPurpose": "By purpose", "dash.avoided": "CO2 avoided against the same distances by car",
		"dash.bikeDays": "Bike-commute days in %s", "dash.goal": "Goal: %d days", "dash.empty": "No trips yet: sync your phone's trips with the connector.",
		"col.mode": "Mode", "col.purpose": "Purpose", "col.trips": "Trips", "col.km": "km", "col.co2": "kg CO2e",
		"col.share": "Share", "col.title": "Trip", "col.modes": "Modes", "col.duration": "Duration", "col.distance": "Distance",
		"col.start": "Start", "col.speed": "Average speed", "col.calories": "Calories", "col.month": "Month",
		"trips.filter": "Filter", "trips.month": "Month", "trips.all": "All", "trips.device": "Device", "trips.count": "%d trips",
		"trips.prev": "Newer", "trips.next": "Older", "trips.none": "No trip matches.",
		"trip.route": "Route", "trip.sections": "Sections", "trip.edit": "Correct this trip", "trip.save": "Save",
		"trip.titleField": "Title", "trip.recurring": "Recurring trip: give its purpose to similar trips",
		"trip.notATrip": "Labelled \u201cnot a trip\u201d: left out of every figure.", "trip.label": "label",
		"trip.saved": "Saved: the figures are up to date.", "trip.propagated": "The purpose went to %d similar trips.",
		"analysis.period": "Period", "analysis.show": "Show",
		"settings.factors": "Emission factors", "settings.defaults": "Your usual modes", "settings.default.bike": "Your bike",
		"settings.default.car": "Your car", "settings.sensed": "as sensed", "settings.places": "Places",
		"settings.home": "Home (latitude, longitude)", "settings.work": "Work (latitude, longitude)", "settings.suggest": "Suggest from my trips",
		"settings.goal": "Bike goal (Forfait Mobilités Durables)", "settings.target": "Days per year", "settings.first": "First name",
		"settings.last": "Last name", "settings.employer": "Employer", "settings.place": "Place of signature",
		"settings.language": "Language", "settings.auto": "Automatic", "settings.devices": "Devices shown (comma-separated, empty for all)", "settings.tiles": "Map tiles (a tile server URL; none by default, no request leaves the app without it)",
		"settings.save": "Save", "settings.saved": "Settings saved: the figures are recomputed.",
		"exports.csv": "All sections as CSV", "exports.geojson": "Routes as GeoJSON", "exports.pdf": "Bike-commute attestation (PDF)",
		"exports.from": "From", "exports.to": "To", "exports.year": "Year", "exports.download": "Download",
		"nav.studies": "Studies", "studies.intro": "Research studies you were offered. Nothing leaves your vault without your consent: only the measures you tick, for complete past months and years, under a pseudonym drawn for each consent.",
		"studies.none": "No study yet. Add one with: app studies add FILE|URL", "studies.disabled": "Research sharing is not enabled in this app.",
		"studies.institution": "Institution", "studies.contact": "Contact", "studies.purpose": "Purpose", "studies.period": "Period",
		"studies.k": "Minimum group size published (k)", "studies.retention": "Kept by the researchers (months)", "studies.collector": "Collector",
		"studies.version": "Version", "studies.measures": "Measures you share", "studies.profile": "Optional profile", "studies.noAnswer": "(no answer)",
		"studies.preview": "Preview", "studies.grant": "I consent", "studies.revoke": "Revoke my consent and delete what was sent",
		"studies.previewTitle": "Exactly what would be sent now", "studies.previewEmpty": "Nothing would be sent now (no complete period not yet sent).",
		"studies.previewNote": "Before you consent, the pseudonym shows as zeros: a random one is drawn when you consent.",
		"studies.active":      "You take part: consent given on", "studies.pseudonym": "pseudonym", "studies.revoked": "Consent revoked.",
		"studies.newVersion": "The study changed (new version): consent again to keep taking part; nothing is sent until then.",
		"studies.log":        "What left my vault", "studies.logEmpty": "Nothing was ever sent.", "studies.time": "Time", "studies.request": "Request",
		"studies.status": "Status", "studies.payload": "Payload", "studies.answer": "Answer",
		"studies.granted":        "Consent given: the complete past periods will be sent at the next share.",
		"studies.revokedDone":    "Consent revoked: the researchers' collector deleted what was sent.",
		"studies.revokedPending": "Consent revoked: nothing more will be sent; the deletion request failed and will be retried.",
		"error.title":            "Something went wrong", "unit.kg": "kg", "unit.km": "km", "unit.kmh": "km/h", "unit.kcal": "kcal",
	},
	"fr": {
		"app.title": "Coach CO2", "nav.dashboard": "Tableau de bord", "nav.trips": "Trajets", "nav.analysis": "Analyse",
		"nav.settings": "Paramètres", "nav.exports": "Exports", "nav.main": "Menu principal",
		"nav.studies": "Études", "studies.intro": "Les études de recherche qui vous ont été proposées. Rien ne sort de votre espace sans votre consentement : seules les mesures cochées, pour des mois et années terminés, sous un pseudonyme tiré pour chaque consentement.",
		"studies.none": "Aucune étude pour l'instant. Ajoutez-en une avec : app studies add FICHIER|URL", "studies.disabled": "Le partage avec la recherche n'est pas activé dans cette application.",
		"studies.institution": "Établissement", "studies.contact": "Contact", "studies.purpose": "Objectif", "studies.period": "Période",
		"studies.k": "Taille minimale des groupes publiés (k)", "studies.retention": "Conservé par les chercheurs (mois)", "studies.collector": "Collecteur",
		"studies.version": "Version", "studies.measures": "Mesures partagées", "studies.profile": "Profil facultatif", "studies.noAnswer": "(pas de réponse)",
		"studies.preview": "Aperçu", "studies.grant": "Je consens", "studies.revoke": "Retirer mon consentement et supprimer ce qui a été envoyé",
		"studies.previewTitle": "Exactement ce qui serait envoyé maintenant", "studies.previewEmpty": "Rien ne serait envoyé maintenant (aucune période terminée non encore envoyée).",
		"studies.previewNote": "Avant votre consentement, le pseudonyme s'affiche en zéros : un pseudonyme aléatoire est tiré quand vous consentez.",
		"studies.active":      "Vous participez : consentement donné le", "studies.pseudonym": "pseudonyme", "studies.revoked": "Consentement retiré.",
		"studies.newVersion": "L'étude a changé (nouvelle version) : consentez à nouveau pour continuer ; rien n'est envoyé d'ici là.",
		"studies.log":        "Ce qui est sorti de mon espace", "studies.logEmpty": "Rien n'a jamais été envoyé.", "studies.time": "Date", "studies.request": "Requête",
		"studies.status": "Statut", "studies.payload": "Contenu envoyé", "studies.answer": "Réponse",
		"studies.granted":        "Consentement donné : les périodes terminées seront envoyées au prochain partage.",
		"studies.revokedDone":    "Consentement retiré : le collecteur des chercheurs a supprimé ce qui avait été envoyé.",
		"studies.revokedPending": "Consentement retiré : plus rien ne sera envoyé ; la demande de suppression a échoué et sera renvoyée.",
		"dash.chart":             "CO2 des 12 derniers mois", "dash.thisMonth": "Ce mois-ci", "dash.lastMonth": "Le mois dernier",
		"dash.byMode": "Par mode", "dash.byPurpose": "Par motif", "dash.avoided": "CO2 évité par rapport aux mêmes distances en voiture",
		"dash.bikeDays": "Jours de vélotaf en %s", "dash.goal": "Objectif : %d jours", "dash.empty": "Pas encore de trajet : synchronisez ceux de votre téléphone avec le connecteur.",
		"col.mode": "Mode", "col.purpose": "Motif", "col.trips": "Trajets", "col.km": "km", "col.co2": "kg CO2e",
		"col.share": "Part", "col.title": "Trajet", "col.modes": "Modes", "col.duration": "Durée", "col.distance": "Distance",
		"col.start": "Départ", "col.speed": "Vitesse moyenne", "col.calories": "Calories", "col.month": "Mois",
		"trips.filter": "Filtrer", "trips.month": "Mois", "trips.all": "Tous", "trips.device": "Appareil", "trips.count": "%d trajets",
		"trips.prev": "Plus récents", "trips.next": "Plus anciens", "trips.none": "Aucun trajet ne correspond.",
		"trip.route": "Itinéraire", "trip.sections": "Étapes", "trip.edit": "Corriger ce trajet", "trip.save": "Enregistrer",
		"trip.titleField": "Titre", "trip.recurring": "Trajet récurrent : donner son motif aux trajets similaires",
		"trip.notATrip": "Étiqueté « pas un trajet » : exclu de tous les chiffres.", "trip.label": "étiquette",
		"trip.saved": "Enregistré : les chiffres sont à jour.", "trip.propagated": "Le motif a été donné à %d trajets similaires.",
		"analysis.period": "Période", "analysis.show": "Afficher",
		"settings.factors": "Facteurs d'émission", "settings.defaults": "Vos modes habituels", "settings.default.bike": "Votre vélo",
		"settings.default.car": "Votre voiture", "settings.sensed": "tel que détecté", "settings.places": "Lieux",
		"settings.home": "Domicile (latitude, longitude)", "settings.work": "Travail (latitude, longitude)", "settings.suggest": "Proposer d'après mes trajets",
		"settings.goal": "Objectif vélo (Forfait Mobilités Durables)", "settings.target": "Jours par an", "settings.first": "Prénom",
		"settings.last": "Nom", "settings.employer": "Employeur", "settings.place": "Lieu de signature",
		"settings.language": "Langue", "settings.auto": "Automatique", "settings.devices": "Appareils affichés (séparés par des virgules, vide pour tous)", "settings.tiles": "Fond de carte (adresse d'un serveur de tuiles ; aucun par défaut, sans lui rien ne sort de l'application)",
		"settings.save": "Enregistrer", "settings.saved": "Paramètres enregistrés : les chiffres sont recalculés.",
		"exports.csv": "Toutes les étapes en CSV", "exports.geojson": "Les itinéraires en GeoJSON", "exports.pdf": "Attestation de vélotaf (PDF)",
		"exports.from": "Du", "exports.to": "Au", "exports.year": "Année", "exports.download": "Télécharger",
		"error.title": "Une erreur est survenue", "unit.kg": "kg", "unit.km": "km", "unit.kmh": "km/h", "unit.kcal": "kcal",
	},
}

// modeNames and purposeNames are shown instead of the constants.
var modeNames = map[string]map[string]string{
	"en": {"WALKING": "Walking", "ON_FOOT": "On foot", "RUNNING": "Running", "BICYCLING": "Bike", "BICYCLING_ELECTRIC": "E-bike",
		"SCOOTER_ELECTRIC": "E-scooter", "CAR": "Car", "CAR_ELECTRIC": "Electric car", "CARPOOL": "Carpool", "CARPOOL_ELECTRIC": "Electric carpool",
		"MOTO_INF_250": "Motorbike < 250 cc", "MOTO_SUP_250": "Motorbike > 250 cc", "MOPED": "Moped", "IN_VEHICLE": "Vehicle",
		"BUS": "Bus", "BUS_ELECTRIC": "Electric bus", "TRAIN": "Train", "TRAMWAY": "Tramway", "SUBWAY": "Metro", "AIR_OR_HSR": "Plane", "UNKNOWN": "Unknown"},
	"fr": {"WALKING": "Marche", "ON_FOOT": "À pied", "RUNNING": "Course", "BICYCLING": "Vélo", "BICYCLING_ELECTRIC": "Vélo électrique",
		"SCOOTER_ELECTRIC": "Trottinette électrique", "CAR": "Voiture", "CAR_ELECTRIC": "Voiture électrique", "CARPOOL": "Covoiturage", "CARPOOL_ELECTRIC": "Covoiturage électrique",
		"MOTO_INF_250": "Moto < 250 cm³", "MOTO_SUP_250": "Moto > 250 cm³", "MOPED": "Scooter", "IN_VEHICLE": "Véhicule",
		"BUS": "Bus", "BUS_ELECTRIC": "Bus électrique", "TRAIN": "Train", "TRAMWAY": "Tramway", "SUBWAY": "Métro", "AIR_OR_HSR": "Avion", "UNKNOWN": "Inconnu"},
}

var purposeNames = map[string]map[string]string{
	"en": {"COMMUTE": "Commute", "WORK": "Work", "SHOPPING": "Shopping", "PERSONAL_MED": "Health", "PICK_DROP": "Pick up / drop off",
		"SPORT": "Sport", "EXERCISE": "Exercise", "ENTERTAINMENT": "Leisure", "TRAVEL": "Travel", "OTHER_PURPOSE": "Other", "UNKNOWN": "Unknown"},
	"fr": {"COMMUTE": "Domicile-travail", "WORK": "Professionnel", "SHOPPING": "Courses", "PERSONAL_MED": "Santé", "PICK_DROP": "Accompagnement",
		"SPORT": "Sport", "EXERCISE": "Activité physique", "ENTERTAINMENT": "Loisirs", "TRAVEL": "Voyage", "OTHER_PURPOSE": "Autre", "UNKNOWN": "Inconnu"},
}

// language picks the UI's language: the settings', else the instance's (COZY_LOCALE), else the
// browser's first supported one, else English.
func language(setting, locale string, r *http.Request) string {
	for _, l := range []string{setting, locale} {
		if l = short(l); messages[l] != nil {
			return l
		}
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		if l := short(strings.TrimSpace(strings.SplitN(part, ";", 2)[0])); messages[l] != nil {
			return l
		}
	}
	return "en"
}

func short(l string) string {
	l = strings.ToLower(l)
	if i := strings.IndexAny(l, "-_"); i > 0 {
		l = l[:i]
	}
	return l
}

func translate(lang, key string) string {
	if m, ok := messages[lang][key]; ok {
		return m
	}
	if m, ok := messages["en"][key]; ok {
		return m
	}
	return key
}

func nameOf(table map[string]map[string]string, lang, key string) string {
	if n, ok := table[lang][key]; ok {
		return n
	}
	return key
}
