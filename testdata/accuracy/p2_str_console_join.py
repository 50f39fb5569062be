"""CI runner: executes build steps and captures their console output for the job page."""
# truth: kind=string_concat
# truth: type=str
# truth: retainer=captured (str)
import shlex
import os, sys; sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "leaks"))
import _harness  # noqa: E402


class Console:
    """Process-wide console capture shared by all build steps."""

    captured = ""

    @classmethod
    def emit(cls, text):
        cls.captured = "".join((cls.captured, text))  # <- alloc

    @classmethod
    def tail(cls, n=200):
        return cls.captured[-n:]


class BuildStep:
    def __init__(self, name, argv):
        self.name = name
        self.argv = argv

    def execute(self, build_no):
        Console.emit("$ %s\n" % " ".join(shlex.quote(a) for a in self.argv))
        for line in self.simulate(build_no):
            Console.emit(line)
        return 0


class CompileStep(BuildStep):
    def simulate(self, build_no):
        return ["compiling module_%02d.c -> build/%d/module_%02d.o\n" % (i, build_no, i) for i in range(3)]


class TestStep(BuildStep):
    def simulate(self, build_no):
        return ["test_case_%02d ... ok (build %d)\n" % (i, build_no) for i in range(2)]


class Pipeline:
    def __init__(self, steps):
        self.steps = steps
        self.status = {}

    def run(self, build_no):
        for s in self.steps:
            self.status[s.name] = s.execute(build_no)
        return all(v == 0 for v in self.status.values())


PIPELINE = Pipeline([CompileStep("compile", ["cc", "-O2", "-c", "src/*.c"]),
                     TestStep("test", ["./run-tests", "--fast"])])


def step(n):
    PIPELINE.run(n)


_harness.run(step, "p2_str_console_join")
