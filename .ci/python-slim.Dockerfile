# A stand-in for the official python:@V@-slim image, built by .ci/prepare on
# the imported Debian testing tree (@BASE@), since no registry is reachable.
# @V@ and @BASE@ are filled in by .ci/prepare.
FROM @BASE@
# .ci/prepare rebuilds the tag when what it was made from changes.
LABEL aat.key="@KEY@"
# The host's CA bundle as the system bundle: the index is reached through a
# TLS-inspecting proxy that only the host's bundle trusts.
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
# Like the official image: python, python3, pip, pip3 in /usr/local/bin for
# this version, and pip installed for the "system" Python, from the tree's
# own wheel (Debian disables ensurepip for the system Python; nothing is
# downloaded).
RUN ln -sf /usr/bin/python@V@ /usr/local/bin/python \
 && ln -sf /usr/bin/python@V@ /usr/local/bin/python3 \
 && whl="$(ls /usr/share/python-wheels/pip-*.whl)" \
 && python@V@ "$whl/pip" install --no-index --no-cache-dir --disable-pip-version-check "$whl" \
 && rm -rf /root/.cache \
 && python --version && pip --version
# Some tools ignore the system bundle unless told (uv uses its own roots
# without UV_NATIVE_TLS).
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    UV_NATIVE_TLS=1
CMD ["python3"]
