"""Pictures and widgets. Plot modules (``*_plots``) return matplotlib Figures and know nothing of
widgets; widget modules wire ipywidgets controls to those plots."""
