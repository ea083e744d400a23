"""Second, independently written correct answers to the notebooks' exercises (one module per notebook).

tests/test_own_answers.py puts each function's source into its notebook's exercise cell, in place of the stub,
removes the solution cells, and runs the notebook to the end: an attendee's own correct answer must carry it.
Names the notebooks define before the exercise (``layers``, ``ops``, ``composite`` ...) are used as they are
there; the imports below only make each module readable on its own.
"""
