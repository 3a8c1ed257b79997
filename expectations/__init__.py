"""The quality gate: Great Expectations suites over the build, and the publish of `bi`."""
