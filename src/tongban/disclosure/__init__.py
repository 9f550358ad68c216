"""Government information disclosure (政府信息公开): the catalog, one-stop search, requests under the Regulations."""
