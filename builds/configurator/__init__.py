"""The configurator: one build's state in the URL, edited by its controls, checked, shown in regions.

One live re-check, from URL to HTML (docs/architecture.md draws it):

    views.build_new / build_edit                      (GET <base path>?l=...&q0=2&v=...; HX-Request)
      state.state_from_params(GET)      URL -> State   (the codec: lines, circuit, kWh, hours, currency)
      edits.apply_edits(state, GET)     controls -> State (no database writes)
      edits.resolve_state(state)        slugs -> catalogue rows (per-process cache by catalogue version)
      page.build_page(state, base)      -> Page: the engine report (builds.reports, cached by content),
                                           its typed view (report.py) and one Region per panel, each
                                           signed by its own data
      render.render_regions(page.regions, shown=v)  HTML of the regions the browser lacks (one cache)
      TemplateResponse("builds/edit.html#recheck")  out-of-band swaps + HX-Push-Url: the canonical URL

Modules: state.py (URL state and codec), edits.py (apply_edits, resolve_state, custom parts), report.py
(typed view over the engine report, totals), page.py (Page, Region, signature), render.py (render changed
regions), picker.py (the part picker).
"""
