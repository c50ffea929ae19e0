module polyplug-plugin

go 1.19
