"""The BPMN workflow engine of cases: ``model`` (the parsed process types, their cache and the
conventions), ``validate`` (the checks of an uploaded definition), ``parse`` (definition to spec)
and ``run`` (starting and advancing a case)."""
