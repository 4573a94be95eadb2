"""The domain: records the services hand around and the input they accept.

Below everything that uses them: nothing here imports the services, the store or the
routes. One module per aggregate; `fields` holds the input types they share.
"""
