pytest_plugins = ["tests.support.fixtures", "tests.support.livekit_fixtures", "tests.support.janus_fixtures"]
