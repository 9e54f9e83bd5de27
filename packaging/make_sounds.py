"""Write the alert sounds to resources/sounds/ (small WAV files made here, no third-party audio).

    python packaging/make_sounds.py

Priority 1: three rising tones, repeated quickly until acknowledged. Priority 2: two soft
tones. Both are short and low in harshness for an eight-hour shift.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22050
OUT = Path(__file__).resolve().parent.parent / "resources" / "sounds"


def tone(freq: float, seconds: float, volume: float) -> list[int]:
    n = int(RATE * seconds)
    out = []
    for i in range(n):
        env = min(1.0, i / (0.01 * RATE), (n - i) / (0.04 * RATE))  # soft attack and release
        out.append(int(32767 * volume * env * math.sin(2 * math.pi * freq * i / RATE)))
    return out


def silence(seconds: float) -> list[int]:
    return [0] * int(RATE * seconds)


def write(name: str, samples: list[int]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with wave.open(str(OUT / name), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(struct.pack(f"<{len(samples)}h", *samples))


if __name__ == "__main__":
    write("alert-priority1.wav", tone(660, 0.12, 0.5) + silence(0.05) + tone(880, 0.12, 0.5) + silence(0.05)
          + tone(1100, 0.18, 0.5))
    write("alert-priority2.wav", tone(520, 0.15, 0.35) + silence(0.08) + tone(660, 0.2, 0.35))
    print(f"wrote {OUT}")
