import flatpkg


def test_value():
    assert flatpkg.VALUE == 42
