"""Widgets of the call screen; none of them touches the network (the app owns every IO object)."""
