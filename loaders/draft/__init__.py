"""Drafting a case file from a new article: proposals a person accepts, mends or rejects.

The draft never writes the graph. Every proposal carries the sentence it rests on (its
evidence, verbatim from the normalised article) and a confidence; places carry their official
code, or the candidates when more than one division fits. Names are found by general means
only: the official divisions, the vocabularies in `vocabulary`, and jieba's part-of-speech tags.
"""
