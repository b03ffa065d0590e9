package engine

import (
	"net/url"

	"github.com/coachco2/coachco2/pkg/settings"
)

// settingsForm is the settings form a correction carries, with the map's two fields set to the
// settings in force: in a Cozy, the page cannot show tiles from another host (the stack's CSP
// allows images from its own origins only) and the engine, on the stack's machine, has no map
// file of the person's to open, so the page leaves these fields out and the engine keeps them as
// they are rather than clearing them. A form that does not parse goes on as it is, for the web
// app's handler to refuse.
func settingsForm(form string, in settings.Settings) string {
	f, err := url.ParseQuery(form)
	if err != nil {
		return form
	}
	f.Set("tileServer", in.TileServer)
	f.Set("baseMap", in.BaseMap)
	return f.Encode()
}
