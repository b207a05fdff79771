pytest_plugins = ["tests.support.fixtures", "tests.support.livekit_fixtures"]
