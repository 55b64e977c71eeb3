"""The app's screens, one module each: the workbench, training, and the dialogs they open."""
