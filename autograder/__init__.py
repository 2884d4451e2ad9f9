"""The RNN assignment kit: build student notebooks and grade submissions out of the student's reach."""
