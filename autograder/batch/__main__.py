"""python -m autograder.batch ASSIGNMENT DIR -o OUT (= grade-all), or `python -m autograder.batch bench [-n 40]`."""
import sys

from . import bench_main, main

args = sys.argv[1:]
sys.exit(bench_main(args[1:]) if args[:1] == ["bench"] else main(args))
