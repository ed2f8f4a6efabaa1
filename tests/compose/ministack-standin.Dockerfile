# A stand-in for ministackorg/ministack:<version> where no image registry is reachable
# (tests/compose/prepare.sh builds it): MiniStack and boto3 from PyPI at the project's pins. Lambdas
# run inside this container (LAMBDA_EXECUTOR=local, tests/compose/local-executor.yml), on its
# Python 3.11, as the Lambda base images its Docker executor would start cannot be had either.
FROM python:3.11-slim-bookworm
ARG MINISTACK_VERSION
ARG BOTO3_VERSION
ARG BOTOCORE_VERSION
LABEL org.sim.stand-in="ministackorg/ministack"
RUN pip install --no-cache-dir --disable-pip-version-check \
      "ministack==${MINISTACK_VERSION}" "boto3==${BOTO3_VERSION}" "botocore==${BOTOCORE_VERSION}"
EXPOSE 4566
CMD ["ministack"]
