"""An insight a manager can trust: EngLog's figures, the model's narrative around them, and
the checks between the model and the stored report.

kinds.py says what each kind asks of the model (its sections and output budget);
figures.py renders the period's figures from the metrics (the model never writes them);
answers.py reads a model's answer into its sections and decides whether it is usable;
numbers.py matches every number of the narrative against the metrics.
"""
