"""A calm dark theme for long shifts: low glare, one strong colour for what needs action."""

BACKGROUND = "#15181c"
PANEL = "#1d2126"
TEXT = "#d8dde3"
MUTED = "#8a939d"
ACCENT = "#4aa3df"
MATCH = "#ff9f1a"  # a candidate match: needs a human
FACE = "#5fd18b"  # a face analysed, no match
GATED = "#8a939d"  # a face below the quality gate
LOST = "#e05d5d"

STYLESHEET = f"""
QWidget {{ background: {BACKGROUND}; color: {TEXT}; font-size: 10.5pt; }}
QMainWindow::separator {{ background: {PANEL}; width: 4px; }}
QStatusBar {{ background: {PANEL}; color: {TEXT}; }}
QStatusBar QLabel {{ background: transparent; padding: 0 10px; }}
QFrame#panel {{ background: {PANEL}; border-radius: 6px; }}
QLabel#heading {{ font-size: 12pt; font-weight: 600; color: {TEXT}; background: transparent; }}
QLabel#muted {{ color: {MUTED}; background: transparent; }}
QTableView {{ background: {PANEL}; alternate-background-color: #22272d; gridline-color: #2b3138;
              selection-background-color: #2f4a60; border: none; }}
QHeaderView::section {{ background: {PANEL}; color: {MUTED}; border: none; padding: 4px; }}
QLabel#banner {{ background: #3a2f12; color: #ffd27a; padding: 4px 10px; border-radius: 4px; }}
"""
