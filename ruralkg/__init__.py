"""ruralkg for analysts: the query catalog as DataFrames and the `%%cypher` magic for Jupyter.

    %load_ext ruralkg.notebook
    from ruralkg import catalog

Both use the service's settings (the local server when NEO4J_URI is unset, any Neo4j 5
otherwise) and its read-only guard.
"""
