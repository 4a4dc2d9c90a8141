"""Synthetic word problems, each solvable in two recognisably different styles.

Every problem has five reasoning steps: restate, plan, compute, verify, conclude. The *teacher* style
writes all five, in that order, as flowing prose with fixed openers ("Let me restate the problem: ...",
"My plan is to ...", "Working it out step by step, 12 plus 7 equals 19.", "To verify, ...",
"Therefore, ..."). The *student* style is terse, one line per sentence, in symbols ("12 + 7 = 19."),
always computes and concludes, sometimes states the givens and the operation first, and checks (if at
all) after the conclusion. Numbers are shared between the styles; the wording of every sentence differs,
so a model trained on one style gives the other style's sentences a low probability. Both styles end
with the same final answer sentence after `</think>` ("The answer is 19."), a sentence both share.

Everything is a pure function of its seed (`random.Random`); no global state.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

KINDS = ("add", "sub", "mul", "div", "convert", "compare")
STEPS = ("restate", "plan", "compute", "verify", "conclude")
THINK_OPEN, THINK_CLOSE = "<think>\n", "</think>"

NAMES = (
    "Ana", "Ben", "Carla", "Dev", "Emma", "Farid", "Grace", "Hugo",
    "Iris", "Jonas", "Kira", "Leo", "Mina", "Nico", "Olga", "Pavel",
)  # fmt: skip
ITEMS = ("apples", "marbles", "books", "stickers", "pencils", "cookies", "coins", "shells", "cards", "stamps")
#: (larger unit singular, plural, smaller unit plural, factor)
UNITS = (
    ("meter", "meters", "centimeters", 100),
    ("hour", "hours", "minutes", 60),
    ("kilogram", "kilograms", "grams", 1000),
    ("foot", "feet", "inches", 12),
    ("minute", "minutes", "seconds", 60),
    ("liter", "liters", "milliliters", 1000),
)

#: Teacher sentence frames per step (the step's clause goes in {x}); one is drawn per sentence.
TEACHER_FRAMES: dict[str, tuple[str, ...]] = {
    "restate": ("Let me restate the problem: {x}.", "First, let me restate what we know: {x}."),
    "plan": ("My plan is to {x}.", "The plan is to {x}."),
    "compute": ("Working it out step by step, {x}.", "Carrying out the calculation carefully, {x}."),
    "verify": ("To verify, {x}.", "Let me double-check: {x}."),
    "conclude": ("Therefore, {x}.", "This means that {x}."),
}


@dataclass(frozen=True)
class Problem:
    """One word problem. `answer` is the exact final answer (a number, or "Name, by N" for comparisons);
    `values` holds the numbers and words the solutions are built from."""

    id: str
    kind: str
    question: str
    answer: str
    values: dict


@dataclass(frozen=True)
class Phrasings:
    """Per step: the teacher's clause (fits a TEACHER_FRAMES frame) and the student's sentence variants."""

    teacher: dict[str, str]
    student: dict[str, tuple[str, ...]]


def _student(restate: str, op: str, compute: str, conclude: str, check: str) -> dict[str, tuple[str, ...]]:
    return {
        "restate": (restate,),
        "plan": (f"Use {op}.", f"{op.capitalize()} needed."),
        "compute": (compute,),
        "conclude": (conclude,),
        "verify": (f"Check: {check}, ok.", f"Check: {check}."),
    }


def phrasings(p: Problem) -> Phrasings:
    """The wording of every step of `p` in both styles."""
    v = p.values
    name, item, a, b, c = v["name"], v["item"], v["a"], v["b"], v["c"]
    if p.kind == "add":
        teacher = {
            "restate": f"{name} starts with {a} {item} and then receives {b} more",
            "plan": "add the two amounts together",
            "compute": f"{a} plus {b} equals {c}",
            "verify": f"{c} minus {b} gives back {a}, which matches the start",
            "conclude": f"{name} has {c} {item} in the end",
        }
        student = _student(
            f"Given: {a} {item}, plus {b}.", "addition", f"{a} + {b} = {c}.", f"{name}: {c} {item}.",
            f"{c} - {b} = {a}",
        )  # fmt: skip
    elif p.kind == "sub":
        teacher = {
            "restate": f"{name} starts with {a} {item} and gives away {b} of them",
            "plan": "subtract the amount given away from the starting amount",
            "compute": f"{a} minus {b} equals {c}",
            "verify": f"{c} plus {b} gives back {a}, which matches the start",
            "conclude": f"{name} has {c} {item} left",
        }
        student = _student(
            f"Given: {a} {item}, minus {b}.", "subtraction", f"{a} - {b} = {c}.", f"{name}: {c} {item} left.",
            f"{c} + {b} = {a}",
        )  # fmt: skip
    elif p.kind == "mul":
        teacher = {
            "restate": f"{name} buys {a} boxes, and each box holds {b} {item}",
            "plan": f"multiply the number of boxes by the number of {item} per box",
            "compute": f"{a} times {b} equals {c}",
            "verify": f"{c} divided by {a} gives back {b}, which matches one box",
            "conclude": f"{name} buys {c} {item} in total",
        }
        student = _student(
            f"Given: {a} boxes x {b} {item}.", "multiplication", f"{a} x {b} = {c}.", f"{name}: {c} {item}.",
            f"{c} / {a} = {b}",
        )  # fmt: skip
    elif p.kind == "div":
        teacher = {
            "restate": f"{name} has {a} {item} to share equally among {b} friends",
            "plan": "divide the total by the number of friends",
            "compute": f"{a} divided by {b} equals {c}",
            "verify": f"{c} times {b} gives back {a}, which matches the total",
            "conclude": f"each friend gets {c} {item}",
        }
        student = _student(
            f"Given: {a} {item}, {b} friends.", "division", f"{a} / {b} = {c}.", f"Each: {c} {item}.",
            f"{c} x {b} = {a}",
        )  # fmt: skip
    elif p.kind == "convert":
        one, big, small, f = v["unit"], v["units"], v["small"], v["factor"]
        teacher = {
            "restate": f"we are given {a} {big} and need the same amount in {small}",
            "plan": f"multiply by {f}, because one {one} is {f} {small}",
            "compute": f"{a} times {f} equals {c}",
            "verify": f"{c} divided by {f} gives back {a}, which matches the given amount",
            "conclude": f"{a} {big} is the same as {c} {small}",
        }
        student = _student(
            f"Given: {a} {big} to {small}.", "conversion", f"{a} x {f} = {c}.", f"{a} {big} = {c} {small}.",
            f"{c} / {f} = {a}",
        )  # fmt: skip
    else:  # compare
        name2, big, small, winner = v["name2"], max(a, b), min(a, b), v["winner"]
        teacher = {
            "restate": f"{name} has {a} {item} while {name2} has {b} {item}",
            "plan": "find the larger amount and subtract the smaller one from it",
            "compute": f"{big} minus {small} equals {c}",
            "verify": f"{small} plus {c} gives back {big}, which matches the larger amount",
            "conclude": f"{winner} has more, by {c} {item}",
        }
        student = _student(
            f"Given: {name} {a}, {name2} {b}.", "comparison", f"{big} - {small} = {c}.",
            f"{winner}: more, by {c}.", f"{small} + {c} = {big}",
        )  # fmt: skip
    return Phrasings(teacher, student)


def _question(rng: random.Random) -> tuple[str, str, str, dict]:
    """(kind, question, answer, values) of one random problem."""
    kind = rng.choice(KINDS)
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    if kind == "add":
        a, b = rng.randint(2, 60), rng.randint(2, 40)
        c = a + b
        q = f"{name} has {a} {item}. {name} gets {b} more {item}. How many {item} does {name} have now?"
    elif kind == "sub":
        a = rng.randint(10, 80)
        b = rng.randint(1, a - 1)
        c = a - b
        q = f"{name} has {a} {item} and gives {b} of them away. How many {item} are left?"
    elif kind == "mul":
        a, b = rng.randint(2, 9), rng.randint(2, 12)
        c = a * b
        q = f"{name} buys {a} boxes with {b} {item} in each box. How many {item} does {name} buy in total?"
    elif kind == "div":
        b, c = rng.randint(2, 9), rng.randint(2, 12)
        a = b * c
        q = f"{name} shares {a} {item} equally among {b} friends. How many {item} does each friend get?"
    elif kind == "convert":
        one, big, small, f = rng.choice(UNITS)
        a = rng.randint(2, 12)
        c = a * f
        q = f"How many {small} are there in {a} {big}?"
        return kind, q, str(c), {"name": name, "item": item, "a": a, "b": f, "c": c, "unit": one,
                                 "units": big, "small": small, "factor": f}  # fmt: skip
    else:  # compare
        name2 = rng.choice([n for n in NAMES if n != name])
        a, b = rng.sample(range(2, 61), 2)
        c = abs(a - b)
        winner = name if a > b else name2
        q = f"{name} has {a} {item} and {name2} has {b} {item}. Who has more {item}, and by how many?"
        return kind, q, f"{winner}, by {c}", {"name": name, "item": item, "a": a, "b": b, "c": c,
                                               "name2": name2, "winner": winner}  # fmt: skip
    return kind, q, str(c), {"name": name, "item": item, "a": a, "b": b, "c": c}


def generate_problems(n: int, seed: int) -> list[Problem]:
    """`n` problems with pairwise distinct questions, in a seeded random order (ids "q00000", ...)."""
    rng = random.Random(f"rdpt-demo-problems-{seed}")
    seen: set[str] = set()
    out: list[Problem] = []
    while len(out) < n:
        kind, question, answer, values = _question(rng)
        if question in seen:
            continue
        seen.add(question)
        out.append(Problem(f"q{len(out):05d}", kind, question, answer, values))
    return out


def split_problems(problems: Sequence[Problem], n_heldout: int) -> tuple[list[Problem], list[Problem]]:
    """(train, heldout): the last `n_heldout` problems are held out. Questions are distinct, so the two
    parts share no problem."""
    if not 0 < n_heldout < len(problems):
        raise ValueError(f"n_heldout must lie in (0, {len(problems)}), got {n_heldout}")
    return list(problems[:-n_heldout]), list(problems[-n_heldout:])


def _response(sentences: Sequence[tuple[str, str]], answer: str) -> str:
    """The response text: `<think>`, the sentences each followed by its separator, `</think>`, answer."""
    body = "".join(s + sep for s, sep in sentences).rstrip()
    return f"{THINK_OPEN}{body}\n{THINK_CLOSE}\n\n{final_sentence(answer)}"


def final_sentence(answer: str) -> str:
    """The answer sentence after `</think>`, the same in both styles."""
    return f"The answer is {answer}."


def teacher_sentence(p: Problem, step: str, rng: random.Random) -> str:
    return rng.choice(TEACHER_FRAMES[step]).format(x=phrasings(p).teacher[step])


def student_sentence(p: Problem, step: str, rng: random.Random) -> str:
    return rng.choice(phrasings(p).student[step])


def teacher_solution(p: Problem, rng: random.Random) -> str:
    """The teacher style: all five steps in order, one paragraph of prose."""
    return _response([(teacher_sentence(p, s, rng), " ") for s in STEPS], p.answer)


def student_solution(p: Problem, rng: random.Random) -> str:
    """The student style: [givens] [operation] compute, conclude, [check]; one line per sentence."""
    steps = [s for s in ("restate", "plan") if rng.random() < 0.5] + ["compute", "conclude"]
    if rng.random() < 0.5:
        steps.append("verify")
    return _response([(student_sentence(p, s, rng), "\n") for s in steps], p.answer)


def mixed_solution(p: Problem, teacher_steps: Sequence[str], rng: random.Random) -> str:
    """All five steps in the teacher's order; the steps in `teacher_steps` in the teacher's wording, the
    others in the student's (a teacher sample that drifted into another style)."""
    sentences = [
        (teacher_sentence(p, s, rng), " ") if s in teacher_steps else (student_sentence(p, s, rng), "\n")
        for s in STEPS
    ]
    return _response(sentences, p.answer)


def final_answer(response: str) -> str | None:
    """The answer stated after `</think>` ("The answer is X." -> "X"), or None when there is none."""
    _, sep, tail = response.rpartition(THINK_CLOSE)
    tail = tail.strip()
    prefix = final_sentence("")[:-1]
    if not sep or not tail.startswith(prefix) or not tail.endswith("."):
        return None
    return tail[len(prefix) : -1]


def solution_records(
    problems: Sequence[Problem], solve: Callable[[Problem, random.Random], str], style: str, seed: int
) -> list[dict]:
    """One input record (DESIGN.md "Input records") per problem, solved by `solve` with a seeded rng."""
    rng = random.Random(f"rdpt-demo-{style}-{seed}")
    return [
        {
            "id": f"{p.id}-{style}",
            "question_id": p.id,
            "prompt": p.question,
            "response": solve(p, rng),
            "reference_answer": p.answer,
            "style": style,
        }
        for p in problems
    ]


def candidate_records(problems: Sequence[Problem], per_problem: int, seed: int) -> list[dict]:
    """`per_problem` candidate responses per problem, with pairwise different numbers of teacher-worded
    steps (field `teacher_steps`, 0..5, in a random order; the most teacher-typical candidate is the one
    with the largest count). A selection by teacher-likeness should pick it."""
    if not 1 <= per_problem <= len(STEPS) + 1:
        raise ValueError(f"per_problem must lie in [1, {len(STEPS) + 1}], got {per_problem}")
    rng = random.Random(f"rdpt-demo-candidates-{seed}")
    out: list[dict] = []
    for p in problems:
        for j, count in enumerate(rng.sample(range(len(STEPS) + 1), per_problem)):
            chosen = rng.sample(STEPS, count)
            out.append(
                {
                    "id": f"{p.id}-c{j}",
                    "question_id": p.id,
                    "prompt": p.question,
                    "response": mixed_solution(p, chosen, rng),
                    "reference_answer": p.answer,
                    "correct": True,
                    "teacher_steps": count,
                }
            )
    return out
