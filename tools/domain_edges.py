"""Print the import graph between tongban's top-level packages (a development aid: `python tools/domain_edges.py`)."""
import collections

import grimp

graph = grimp.build_graph("tongban", exclude_type_checking_imports=True)
edges: collections.Counter[tuple[str, str]] = collections.Counter()
for module in graph.modules:
    for imported in graph.find_modules_directly_imported_by(module):
        source, target = module.split(".")[1:2], imported.split(".")[1:2]
        if source and target and source != target:
            edges[(source[0], target[0])] += 1
for (a, b), n in sorted(edges.items()):
    back = "  <-> CYCLE" if (b, a) in edges else ""
    print(f"{a:14} -> {b:14} {n}{back}")
