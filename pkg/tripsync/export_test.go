package tripsync

// SetBeforeConvert has e call f as each window's conversion starts, in the goroutine that fetched
// the window: a test sees there what the pipeline does meanwhile.
func SetBeforeConvert(e *Engine, f func()) { e.beforeConvert = f }
