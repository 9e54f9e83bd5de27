"""A calm dark control-room theme for long shifts.

Colours follow the Okabe-Ito palette, which people with the common colour-vision
deficiencies can tell apart, and no state is shown by colour alone: every coloured mark
also carries a word or a line style. Nothing flashes.
"""

BACKGROUND = "#121417"
PANEL = "#1b1f24"
PANEL_2 = "#232830"
TEXT = "#e6e9ed"
MUTED = "#9aa4ae"
ACCENT = "#56B4E9"  # sky blue: selection, new
MATCH = "#E69F00"  # orange: a candidate match that needs a human
FACE = "#009E73"  # bluish green: a face analysed, no match
GATED = "#8a939d"  # grey, dashed: a face below the quality gate
LOST = "#D55E00"  # vermillion: lost feed, overdue alert
CONFIRM = "#0072B2"  # blue: confirm
REJECT = "#CC79A7"  # reddish purple: reject
AGE_NEW, AGE_WAITING, AGE_OVERDUE = ACCENT, MATCH, LOST
AGE_WAITING_S, AGE_OVERDUE_S = 30, 90

STYLESHEET = f"""
QWidget {{ background: {BACKGROUND}; color: {TEXT}; font-size: 11pt; }}
QMainWindow::separator {{ background: {PANEL}; width: 4px; }}
QToolBar {{ background: {PANEL}; border: none; spacing: 6px; padding: 4px; }}
QToolButton {{ background: {PANEL_2}; border: 1px solid #2e353d; border-radius: 4px; padding: 4px 10px; }}
QToolButton:checked {{ background: #2f4a60; border-color: {ACCENT}; }}
QToolButton:disabled {{ color: #5c6570; border-color: #262b31; }}
QToolButton#stop_button:enabled {{ color: #ffd0d0; background: #5a1a1a; border-color: #a33a3a; font-weight: 600; }}
QStatusBar {{ background: {PANEL}; color: {TEXT}; }}
QStatusBar QLabel {{ background: transparent; padding: 0 12px; }}
QFrame#panel {{ background: {PANEL}; border-radius: 6px; }}
QFrame#card {{ background: {PANEL_2}; border-radius: 6px; }}
QLabel {{ background: transparent; }}
QLabel#heading {{ font-size: 13pt; font-weight: 600; }}
QLabel#title {{ font-size: 15pt; font-weight: 700; }}
QLabel#muted {{ color: {MUTED}; }}
QLabel#badge_ok {{ background: #1f3a33; color: #c9f2e3; border-radius: 4px; padding: 3px 8px; }}
QLabel#badge_warn {{ background: #4a3410; color: #ffe0a3; border-radius: 4px; padding: 3px 8px; }}
QLabel#banner {{ background: #3a2f12; color: #ffd27a; padding: 6px 12px; border-radius: 4px; font-weight: 600; }}
QLabel#problem_banner {{ background: #4a1616; color: #ffc9c9; padding: 6px 12px; font-weight: 600; }}
QLabel#focus_banner {{ background: #5a2a10; color: #ffd9c2; padding: 6px 12px; font-weight: 700; }}
QFrame#fatigue_banner {{ background: #2e2612; border-bottom: 2px solid {MATCH}; }}
QLabel#fatigue_text {{ color: #ffe0a3; font-weight: 600; }}
QLabel#oversight_banner {{ background: #7a1010; color: #ffffff; padding: 10px 14px; font-weight: 700; font-size: 12pt; }}
QListView {{ background: {PANEL}; border: none; outline: none; }}
QPushButton {{ background: {PANEL_2}; border: 1px solid #39414b; border-radius: 5px; padding: 8px 14px;
               font-weight: 600; }}
QPushButton:disabled {{ color: #5d6670; border-color: #2a3038; }}
QPushButton#confirm {{ border: 2px solid {CONFIRM}; }}
QPushButton#reject {{ border: 2px solid {REJECT}; }}
QRadioButton, QCheckBox {{ spacing: 8px; padding: 3px; }}
QCheckBox::indicator {{ width: 14px; height: 14px; border: 2px solid {MUTED}; border-radius: 3px; background: {PANEL_2}; }}
QCheckBox::indicator:checked {{ background: {ACCENT}; border-color: {TEXT}; }}
QCheckBox::indicator:disabled {{ border-color: #4a525c; }}
QCheckBox::indicator:checked:disabled {{ background: #3c5a70; border-color: #6b7480; }}
QLineEdit, QPlainTextEdit {{ background: {PANEL_2}; border: 1px solid #39414b; border-radius: 4px; padding: 4px; }}
QFrame#prompt {{ background: #15283a; border: 2px solid {ACCENT}; border-radius: 6px; }}
"""
