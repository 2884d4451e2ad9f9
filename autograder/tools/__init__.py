"""The instructor's tools, one module or package each: assign (build notebooks), dist (Gradescope
zips), batch (grade-all), calibrate, bench, hostile (the adversarial corpus), examples, new."""
