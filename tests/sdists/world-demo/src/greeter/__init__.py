"""world-demo: a component of the WIT world `demo:greeter/greeter` in Python."""
