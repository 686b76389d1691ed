# SPDX-License-Identifier: GPL-2.0-or-later
"""Configuration directories for the real libpurple clients, Finch and
Pidgin: `finch -c DIR` and `pidgin -c DIR` load plugins from DIR/plugins/
and read accounts.xml, blist.xml and prefs.xml from DIR.

WARREN_INSTALLED=1: the clients get no plugin in DIR/plugins/ and so load
the installed one (the Debian package's, in libpurple's plugin directory),
never the build tree's (tests/run-all.sh, after installing the package)."""
import os
import pathlib
import shutil
import subprocess
from xml.sax.saxutils import escape, quoteattr

from conftest import BUILD, DOMAIN

# The UI ids under which each client keeps its per-account settings
# (auto-login: the account is enabled in that client).
UI_FINCH = "gnt-purple"
UI_PIDGIN = "gtk-gaim"


INSTALLED = os.environ.get("WARREN_INSTALLED") == "1"


def system_plugin():
    """Where the installed plugin is: libpurple's own plugin directory."""
    plugindir = subprocess.run(["pkg-config", "--variable=plugindir", "purple"],
                               capture_output=True, text=True, check=True).stdout.strip()
    return pathlib.Path(plugindir) / "warren.so"


def expected_plugin(cfg):
    """The warren.so a client with configuration directory cfg must load."""
    return system_plugin() if INSTALLED else cfg / "plugins" / "warren.so"


def client_dir(path):
    """A fresh configuration directory at path holding the built plugin
    (with WARREN_INSTALLED=1: holding none)."""
    (path / "plugins").mkdir(parents=True)
    if INSTALLED:
        assert system_plugin().exists(), f"{system_plugin()} missing: install the package"
        return path
    plugin = BUILD / "src" / "purple" / ".libs" / "warren.so"
    assert plugin.exists(), f"{plugin} missing: build first"
    shutil.copy(plugin, path / "plugins" / "warren.so")
    return path


def warren_account_xml(user, password, tornet, ui, resource):
    """accounts.xml with one Warren account, enabled in the client ui,
    whose server is prosody's onion service and whose Tor is the private
    test network's client tor (system mode, as in add_xmpp_account)."""
    settings = {
        "connect_server": ("string", tornet.xmpp_onion),
        "connection_security": ("string", "opportunistic_tls"),
        "auth_plain_in_clear": ("bool", "1"),
        "tor-mode": ("string", "system"),
        "tor-socks": ("string", tornet.socks),
        "tor-control": ("string", tornet.control),
    }
    rows = "\n".join(f"   <setting name={quoteattr(k)} type='{t}'>{escape(v)}</setting>"
                     for k, (t, v) in settings.items())
    return f"""<?xml version='1.0' encoding='UTF-8' ?>
<account version='1.0'>
 <account>
  <protocol>prpl-warren</protocol>
  <name>{escape(f"{user}@{DOMAIN}/{resource}")}</name>
  <password>{escape(password)}</password>
  <settings>
{rows}
  </settings>
  <settings ui={quoteattr(ui)}>
   <setting name='auto-login' type='bool'>1</setting>
  </settings>
 </account>
</account>
"""


def blist_xml(account, buddies, group="Buddies"):
    """blist.xml: the Warren contacts of account, buddies as
    [(bare JID, local alias)]."""
    contacts = "\n".join(f"""   <contact>
    <buddy account={quoteattr(account)} proto='prpl-warren'>
     <name>{escape(jid)}</name>
     <alias>{escape(alias)}</alias>
    </buddy>
   </contact>""" for jid, alias in buddies)
    return f"""<?xml version='1.0' encoding='UTF-8' ?>
<purple version='1.0'>
 <blist>
  <group name={quoteattr(group)}>
{contacts}
  </group>
 </blist>
 <privacy>
  <account proto='prpl-warren' name={quoteattr(account)} mode='1'/>
 </privacy>
</purple>
"""


def prefs_xml(prefs):
    """prefs.xml from {"/a/b/c": (type, value)}; type is libpurple's
    (bool, int, string, path, pathlist, ...)."""
    tree = {}
    for path, typed in prefs.items():
        node = tree
        *parents, leaf = path.strip("/").split("/")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = typed

    def render(node, depth):
        pad = " " * depth
        out = []
        for name, child in node.items():
            if isinstance(child, dict):
                out.append(f"{pad}<pref name={quoteattr(name)}>")
                out += render(child, depth + 1)
                out.append(f"{pad}</pref>")
            else:
                kind, value = child
                if kind == "pathlist":  # value: a list of paths
                    out.append(f"{pad}<pref name={quoteattr(name)} type='pathlist'>")
                    out += [f"{pad} <item value={quoteattr(v)}/>" for v in value]
                    out.append(f"{pad}</pref>")
                else:
                    out.append(f"{pad}<pref name={quoteattr(name)} type='{kind}' "
                               f"value={quoteattr(str(value))}/>")
        return out

    return ("<?xml version='1.0' encoding='UTF-8' ?>\n<pref version='1' name='/'>\n"
            + "\n".join(render(tree, 1)) + "\n</pref>\n")
