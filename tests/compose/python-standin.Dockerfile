# A stand-in for python:3.11-slim-bookworm where no image registry is reachable (tests/compose/
# prepare.sh builds it): Debian bookworm's own Python 3.11 in a venv at /usr/local, where the
# official image keeps python and pip, and the build machine's CA bundle, since package downloads
# go through its TLS proxy.
FROM local/bookworm:latest
LABEL org.sim.stand-in="python:3.11-slim-bookworm"
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN python3 -m venv /usr/local && ln -sf /usr/local/bin/python3 /usr/local/bin/python
ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    LANG=C.UTF-8 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
