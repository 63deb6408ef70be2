"""What the generator stages share: the district, the seed, the reference date, the loader and the
frames the earlier stages produced."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np

from jiayi.synth import reference
from jiayi.synth.loader import Loader

#: Offset of China Standard Time from UTC; measurements and visits happen in local clinic hours.
CST = timedelta(hours=8)


@dataclass
class SynthContext:
    district: reference.District
    residents: int
    seed: int
    as_of: date
    loader: Loader
    frames: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def rng(self, stage: str) -> np.random.Generator:
        """An independent, reproducible random stream per stage (same seed ⇒ same stream)."""
        return np.random.default_rng([self.seed, zlib.crc32(stage.encode())])

    @property
    def today(self) -> np.datetime64:
        return np.datetime64(self.as_of, "D")

    @property
    def created_stamp(self) -> str:
        """created_at / updated_at of synthetic rows: the reference date, 08:00 local time."""
        utc = datetime.combine(self.as_of, time(8)) - CST
        return str(self.loader.timestamps(np.array([np.datetime64(utc, "s")]))[0])

    def local_to_utc(self, day: np.ndarray, minutes: np.ndarray) -> np.ndarray:
        """datetime64[s] UTC instants for local dates plus minutes after midnight (CST)."""
        local = day.astype("datetime64[D]").astype("datetime64[s]") + minutes.astype("timedelta64[m]")
        return local - np.timedelta64(8, "h")
