package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Plot geometry, in SVG user units.
const (
	plotW, plotH           = 720, 420
	plotLeft, plotRight    = 80, 170 // room for the y labels and the legend
	plotTop, plotBottom    = 40, 50
	maxPlotSeries          = 12
	plotFont               = `font-family="sans-serif" font-size="12"`
	latencySuffixMedian    = "_p50_us"
	latencyPercentileCount = 5
)

// percentilePoints are the x positions of a latency plot: the quantiles a
// Result keeps (addLatency), spaced evenly, which is a log scale of 1/(1-q).
var percentilePoints = []struct{ label, suffix string }{
	{"p50", "_p50_us"}, {"p90", "_p90_us"}, {"p99", "_p99_us"}, {"p99.9", "_p999_us"}, {"max", "_max_us"},
}

// plotColors are told apart by most readers, colour-blind ones included.
var plotColors = []string{"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442"}

// Series is one line of a latency plot: microseconds at each of
// percentilePoints.
type Series struct {
	Name   string
	Values [latencyPercentileCount]float64
}

// latencySeries returns a series per server and latency metric of case cs
// (metrics named <prefix>_p50_us … <prefix>_max_us). Series are named by
// server when the case has one latency metric, by metric when it has one
// server, and by both otherwise.
func (c *Comparison) latencySeries(cs string) []Series {
	type key struct{ label, prefix string }
	var keys []key
	labels, prefixes := map[string]bool{}, map[string]bool{}
	for _, l := range c.Labels {
		r := c.Result(cs, l)
		if r == nil {
			continue
		}
		for _, m := range r.Metrics {
			prefix, ok := strings.CutSuffix(m.Name, latencySuffixMedian)
			if !ok || strings.HasPrefix(prefix, "connect") && r.Scenario != "connect" {
				continue
			}
			keys = append(keys, key{l, prefix})
			labels[l], prefixes[prefix] = true, true
		}
	}
	// Names of one server's metrics drop the prefix they all share.
	common := ""
	if len(labels) == 1 && len(keys) > 1 {
		common = keys[0].prefix
		for _, k := range keys[1:] {
			for !strings.HasPrefix(k.prefix, common) {
				common = common[:len(common)-1]
			}
		}
		common = common[:strings.LastIndexByte(common, '_')+1]
	}
	var out []Series
	for _, k := range keys {
		r := c.Result(cs, k.label)
		s := Series{Name: k.label + " " + k.prefix}
		switch {
		case len(prefixes) == 1:
			s.Name = k.label
		case len(labels) == 1:
			s.Name = strings.TrimPrefix(k.prefix, common)
		}
		complete := true
		for i, p := range percentilePoints {
			v, ok := r.Metrics.Get(k.prefix + p.suffix)
			complete = complete && ok
			s.Values[i] = v
		}
		if complete && len(out) < maxPlotSeries {
			out = append(out, s)
		}
	}
	return out
}

// WriteLatencySVG draws series as lines over the percentiles, latency on a
// log scale, as a self-contained SVG.
func WriteLatencySVG(w io.Writer, title string, series []Series) error {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, v := range s.Values {
			v = max(v, 1)
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if len(series) == 0 {
		lo, hi = 1, 10
	}
	// Whole decades around the data.
	dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if dhi <= dlo {
		dhi = dlo + 1
	}
	// The legend gets the room its longest name needs (about 7 units a
	// character at this font size).
	legend := 0
	for _, s := range series {
		legend = max(legend, len(s.Name))
	}
	width := plotW - plotRight + max(plotRight, 50+7*legend)
	innerW, innerH := float64(plotW-plotLeft-plotRight), float64(plotH-plotTop-plotBottom)
	x := func(i int) float64 { return plotLeft + innerW*float64(i)/float64(len(percentilePoints)-1) }
	y := func(v float64) float64 {
		return plotTop + innerH*(1-(math.Log10(max(v, 1))-dlo)/(dhi-dlo))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n", width, plotH, width, plotH)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="24" %s font-weight="bold">%s</text>`+"\n", plotLeft, plotFont, xmlEscape(title))
	for d := dlo; d <= dhi; d++ {
		yy := y(math.Pow(10, d))
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", plotLeft, yy, plotLeft+innerW, yy)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" %s text-anchor="end">%s</text>`+"\n", plotLeft-6, yy+4, plotFont, durationLabel(math.Pow(10, d)))
	}
	for i, p := range percentilePoints {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", x(i), plotTop, x(i), plotTop+innerH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" %s text-anchor="middle">%s</text>`+"\n", x(i), plotTop+innerH+18, plotFont, p.label)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" %s text-anchor="middle">percentile</text>`+"\n", plotLeft+innerW/2, plotH-10, plotFont)
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%.1f" fill="none" stroke="#888"/>`+"\n", plotLeft, plotTop, innerW, innerH)
	for si, s := range series {
		color := plotColors[si%len(plotColors)]
		dash := "" // colours come round again with a dashed line
		if si >= len(plotColors) {
			dash = ` stroke-dasharray="6 3"`
		}
		var pts []string
		for i, v := range s.Values {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(pts, " "), color, dash)
		for i, v := range s.Values {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s %s: %s</title></circle>`+"\n",
				x(i), y(v), color, xmlEscape(s.Name), percentilePoints[i].label, durationLabel(v))
		}
		ly := plotTop + 14 + 18*si
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", plotLeft+innerW+12, ly-4, plotLeft+innerW+32, ly-4, color, dash)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" %s>%s</text>`+"\n", plotLeft+innerW+38, ly, plotFont, xmlEscape(s.Name))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// durationLabel prints microseconds as µs, ms or s.
func durationLabel(us float64) string {
	switch {
	case us >= 1e6:
		return trimZeros(fmt.Sprintf("%.2f", us/1e6)) + " s"
	case us >= 1e3:
		return trimZeros(fmt.Sprintf("%.2f", us/1e3)) + " ms"
	}
	return trimZeros(fmt.Sprintf("%.2f", us)) + " µs"
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
