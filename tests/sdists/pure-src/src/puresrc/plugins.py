class Default:
    name = "default"
