"""依申请公开: requests for disclosure under the 《政府信息公开条例》(2019), their fees, reply letters and
the annual report's request tables."""
