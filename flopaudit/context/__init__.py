"""Context for the HTML report: what the training-compute count does not capture.

Nothing here changes a verdict. :mod:`.reference` holds published compute of well-known models,
:mod:`.efficiency` the catalogue of efficiency factors and the effective-compute arithmetic,
:mod:`.inference` the compute a config declares outside its training stages (deployment,
generators, teachers), and :mod:`.applied` puts them together for one audited config.
"""
