"""12345 hotline (热线), the mayor's mailbox (领导信箱) and online participation: citizens' demands
on the grid's case engine. This slice: the categories, their departments and the classification that
proposes them while an agent types (``categories``, ``examples``, ``classify``)."""
